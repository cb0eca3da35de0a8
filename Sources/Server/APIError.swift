import CommandSupport
import Foundation
import Hummingbird
import Reports
import ScenarioSpec

/// An answer other than 2xx, as JSON: `{"error": {"status", "message", "file", "path", "line"}}`.
/// A scenario error keeps the CLI's message and field path (file "--set", "--shock", the request's
/// field, or the scenario file), so a bad request reads as the command line would say it.
public struct APIError: Error, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    public var file: String?
    public var path: String?
    public var line: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, file: String? = nil, path: String? = nil, line: Int? = nil) {
        self.status = status
        self.message = message
        self.file = file
        self.path = path
        self.line = line
    }

    /// A request field that is missing, of the wrong type or out of range (400).
    static func field(_ path: String, _ message: String) -> APIError { APIError(.badRequest, "\(path): \(message)", file: "request", path: path) }

    /// Any error of a request as an answer: the library's user errors (a scenario, override, move or
    /// input file the request named) are 400 with their message; an error of Hummingbird keeps its
    /// status; anything else is 500 with its description (never a crash).
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as ScenarioError:
            return APIError(.badRequest, error.description, file: error.file, path: error.path, line: error.line)
        case let error as any ThresherError:
            let userError = [ExitStatus.usage, ExitStatus.invalidScenario, ExitStatus.missingInput].contains(error.exitStatus)
            return APIError(userError ? .badRequest : .internalServerError, error.description)
        case let error as HTTPError:
            return APIError(error.status, error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return APIError(error.status, error.status == .contentTooLarge ? "request body too large" : error.status.reasonPhrase)
        default:
            return APIError(.internalServerError, "\(error)")
        }
    }

    var json: JSONValue {
        .object([("error", .object([
            ("status", .integer(status.code)), ("message", .string(message)),
            ("file", file.map(JSONValue.string) ?? .null), ("path", path.map(JSONValue.string) ?? .null),
            ("line", line.map(JSONValue.integer) ?? .null),
        ]))])
    }

    var response: Response {
        var response = Response.json(json, status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"thresher\"" }
        return response
    }
}

extension Response {
    /// A JSON document (the reports' serializer: keys in documented order, shortest round-trip numbers).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        json(value.fileData, status: status)
    }

    static func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        body(data, type: "application/json; charset=utf-8", status: status)
    }

    static func body(_ data: Data, type: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: streamed(data))
    }

    /// Bytes written per chunk of a large body.
    static let chunkBytes = 1 << 16

    /// `data` as a body written in chunks of `chunkBytes`, each write waiting for the connection to take
    /// it (backpressure): a slow reader holds its own request open, not a copy of the body in the
    /// server's buffers, and a graceful shutdown waits until the last chunk has reached the socket.
    static func streamed(_ data: Data) -> ResponseBody {
        guard data.count > chunkBytes else { return .init(byteBuffer: ByteBuffer(bytes: data)) }
        return ResponseBody(contentLength: data.count) { writer in
            var start = data.startIndex
            while start < data.endIndex {
                let end = min(start + chunkBytes, data.endIndex)
                try await writer.write(ByteBuffer(bytes: data[start..<end]))
                start = end
            }
            try await writer.finish(nil)
        }
    }
}
