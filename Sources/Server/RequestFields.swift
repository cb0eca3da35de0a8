import Foundation
import Hummingbird

/// The fields of a request, from a JSON object body (POST) or the query string (GET: a list field is
/// the parameter repeated, `?shock=BTC=-0.2&shock=ETH=-0.3`), read with the field's path in every
/// error (400). Unknown fields are refused, so a misspelt field is never silently ignored.
struct RequestFields {
    private let values: [String: Any]
    private let fromQuery: Bool

    /// - Throws: `APIError` 400 on a body that is not a JSON object, or a field not in `known`.
    init(_ request: Request, context: some RequestContext, maxBytes: Int, known: Set<String>) async throws {
        if request.method == .get || request.method == .head {
            var values: [String: [String]] = [:]
            for (key, value) in request.uri.queryParameters { values[String(key), default: []].append(String(value)) }
            values["access_token"] = nil
            self.values = values
            fromQuery = true
        } else {
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: maxBytes)
            } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                throw APIError(.contentTooLarge, "request body larger than the limit of \(maxBytes) bytes (--max-body)")
            }
            let data = Data(buffer.readableBytesView)
            if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                values = [:]
            } else {
                guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
                    throw APIError(.badRequest, "the request body is not valid JSON", file: "request", path: "")
                }
                guard let fields = object as? [String: Any] else {
                    throw APIError(.badRequest, "the request body must be a JSON object, e.g. {\"shock\": [\"BTC=-0.2\"]}", file: "request", path: "")
                }
                values = fields
            }
            fromQuery = false
        }
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.field(unknown, "unknown field; known fields: \(known.sorted().joined(separator: ", "))")
        }
    }

    /// A list of strings (`["BTC=-0.2"]`; a single string is taken as a list of one).
    func strings(_ key: String) throws -> [String] {
        guard let value = values[key] else { return [] }
        if let text = value as? String { return [text] }
        guard let list = value as? [Any] else { throw APIError.field(key, "expected a list of strings") }
        return try list.enumerated().map { index, item in
            guard let text = item as? String else { throw APIError.field("\(key)[\(index)]", "expected a string") }
            return text
        }
    }

    /// One string, or nil when absent.
    func string(_ key: String) throws -> String? {
        let all = try strings(key)
        guard all.count <= 1 else { throw APIError.field(key, "given \(all.count) times; give it once") }
        return all.first
    }

    /// A whole number in `range`, or nil when absent.
    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = values[key] else { return nil }
        let number: Double?
        if fromQuery, let texts = value as? [String], texts.count == 1 { number = Double(texts[0]) } else { number = (value as? NSNumber).flatMap { Self.isBool($0) ? nil : $0.doubleValue } }
        guard let number, number == number.rounded(), number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw APIError.field(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number)
    }

    /// A seed: a whole number 0 ... 2⁶⁴ − 1 (as a JSON number below 2⁵³, or a string of digits).
    func seed(_ key: String) throws -> UInt64? {
        guard let value = values[key] else { return nil }
        let text = (value as? [String])?.first ?? (value as? String) ?? (value as? NSNumber).map { "\($0)" }
        guard let text, let seed = UInt64(text) else { throw APIError.field(key, "expected a whole number from 0 to 18446744073709551615") }
        return seed
    }

    /// true/false, or nil when absent.
    func bool(_ key: String) throws -> Bool? {
        guard let value = values[key] else { return nil }
        if fromQuery, let texts = value as? [String], texts.count == 1, let flag = ["true": true, "1": true, "false": false, "0": false][texts[0]] { return flag }
        if let number = value as? NSNumber, Self.isBool(number) { return number.boolValue }
        throw APIError.field(key, "expected true or false")
    }

    /// Whether JSON gave `true`/`false` (an NSNumber of C type char or bool), not a number.
    static func isBool(_ number: NSNumber) -> Bool { ["c", "B"].contains(String(cString: number.objCType)) }

    /// One of `choices`, or nil when absent.
    func choice(_ key: String, _ choices: [String]) throws -> String? {
        guard let value = try string(key) else { return nil }
        guard choices.contains(value) else { throw APIError.field(key, "'\(value)' is not one of \(choices.joined(separator: ", "))") }
        return value
    }
}
