import CommandSupport
import Foundation
import TailStats

/// The file a slice of a run writes (`--partial`) and the merged state `thresher merge` writes
/// between dependent stages (`--state-out`). Layout (README, "Clusters"), integers little-endian:
///
///     "THRPART\n"              8 bytes, magic
///     format version           u64 (2)
///     kind                     u64 (1 part, 2 merged state)
///     producer                 string: the program and commit that wrote it
///     request                  string: the `RunRequest` (JSON) that `thresher merge` runs again
///     digest                   u64: FNV-1a of the scenario's files and those options
///     seed, total paths        u64, u64
///     slice, slices            u64, u64 (a merged state: 0, 1)
///     stage                    u64: a part's stage; a state's number of stages
///     resumed from             u64: checksum of the state a part resumed from (0: none)
///     payloads                 count, byte strings: a part's stage, or every stage of a state
///     checksum                 u64: FNV-1a of every byte before it
///
/// A string is a u64 byte count and UTF-8 bytes.
public struct PartFile: Equatable, Sendable {
    public enum Kind: UInt64, Sendable { case part = 1, state = 2 }

    public static let magic = Data("THRPART\n".utf8)
    public static let formatVersion: UInt64 = 2

    public var kind: Kind
    public var producer: String
    /// The command and every option that fixes its numbers.
    public var request: RunRequest
    public var command: String { request.command }
    public var scenarioPath: String { request.scenarioPath }
    public var digest: UInt64
    public var seed: UInt64
    public var paths: Int
    public var slice: Int
    public var slices: Int
    public var stage: Int
    public var resumedFrom: UInt64
    public var payloads: [Data]

    public init(kind: Kind, producer: String, request: RunRequest, digest: UInt64, seed: UInt64,
                paths: Int, slice: Int, slices: Int, stage: Int, resumedFrom: UInt64, payloads: [Data]) {
        self.kind = kind
        self.producer = producer
        self.request = request
        self.digest = digest
        self.seed = seed
        self.paths = paths
        self.slice = slice
        self.slices = slices
        self.stage = stage
        self.resumedFrom = resumedFrom
        self.payloads = payloads
    }

    /// The file's bytes, checksum last.
    public var encoded: Data {
        var w = StateWriter()
        w.write(bytes: Data(producer.utf8))
        w.write(bytes: request.encoded)
        w.write(digest)
        w.write(seed)
        for value in [paths, slice, slices, stage] { w.write(value) }
        w.write(resumedFrom)
        w.write(payloads.count)
        for payload in payloads { w.write(bytes: payload) }
        var data = Self.magic
        var head = StateWriter()
        head.write(Self.formatVersion)
        head.write(kind.rawValue)
        data.append(head.data)
        data.append(w.data)
        var tail = StateWriter()
        tail.write(FNV1a64.of(data))
        data.append(tail.data)
        return data
    }

    /// The checksum a part that resumes from this state records.
    public var checksum: UInt64 { FNV1a64.of(encoded.dropLast(8)) }

    /// Reads a part or state file, checking magic, version, checksum and every length.
    public static func read(_ data: Data, file: String) throws -> PartFile {
        func failure(_ reason: String) -> PartFileError { PartFileError(file: file, reason: reason) }
        guard data.count >= magic.count + 24, data.prefix(magic.count) == magic else {
            throw failure("not a thresher part or state file (no THRPART header): written by something else, or empty")
        }
        let body = data.dropLast(8)
        var trailer = StateReader(data.suffix(8))
        let stored = try trailer.readUInt64()
        var r = StateReader(data.dropFirst(magic.count))
        do {
            let version = try r.readUInt64()
            guard version == formatVersion else { throw failure("format version \(version); this thresher reads version \(formatVersion): merge with the thresher that wrote it") }
            guard FNV1a64.of(body) == stored else { throw failure("checksum mismatch: the file is truncated or corrupted (\(data.count) bytes); run its slice again") }
            guard let kind = Kind(rawValue: try r.readUInt64()) else { throw failure("unknown kind") }
            func string() throws -> String { String(decoding: try r.readBytes(), as: UTF8.self) }
            let producer = try string()
            let request = try RunRequest.decode(try r.readBytes(), file: file)
            let digest = try r.readUInt64(), seed = try r.readUInt64()
            let paths = try r.readInt(), slice = try r.readInt(), slices = try r.readInt(), stage = try r.readInt()
            let resumedFrom = try r.readUInt64()
            let payloads = try (0..<r.readCount(of: "payloads")).map { _ in try r.readBytes() }
            guard slices >= 1, (0..<slices).contains(slice), paths >= 1, stage >= 0 else { throw failure("slice \(slice)/\(slices) of \(paths) paths, stage \(stage): not a valid header") }
            return PartFile(kind: kind, producer: producer, request: request, digest: digest,
                            seed: seed, paths: paths, slice: slice, slices: slices, stage: stage, resumedFrom: resumedFrom, payloads: payloads)
        } catch let error as StateDecodingError {
            throw failure("\(error.reason)")
        }
    }

    public static func read(path: String) throws -> PartFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            var error = PartFileError(file: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "no such file")
            error.missing = true
            throw error
        }
        return try read(data, file: path)
    }

    /// What the scenario digest covers besides the files: the command and the options that fix its
    /// numbers.
    public static func digest(sourceDigest: UInt64, command: String, options: [String], seed: UInt64, paths: Int) -> UInt64 {
        var h = FNV1a64()
        h.add(sourceDigest)
        h.add(command + "\u{1F}" + options.joined(separator: "\u{1F}"))
        h.add(seed)
        h.add(UInt64(paths))
        return h.value
    }
}

/// A part or state file that cannot be used; the message names the file.
public struct PartFileError: ThresherError {
    public var exitStatus: Int32 { missing ? ExitStatus.missingInput : ExitStatus.invalidScenario }
    /// The file does not exist or cannot be read.
    public var missing = false
    public let file: String
    public let reason: String
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
    public var description: String { "\(file): \(reason)" }
}

/// The parts of one stage checked to be one complete, consistent set: same run (command, options,
/// digest, seed, paths), same stage and state resumed from, every slice exactly once.
public struct MergePlan: Sendable {
    public let first: PartFile
    /// Stages already merged (from the resumed state), then the parts' payloads in slice order.
    public let known: [Data]
    public let parts: [Data]

    /// - Parameters:
    ///   - parts: the part files and their names.
    ///   - resume: the merged state the parts were run from (required from the second stage on).
    public init(parts: [(name: String, file: PartFile)], resume: (name: String, file: PartFile)?) throws {
        guard let (firstName, first) = parts.first else { throw PartFileError(file: "thresher merge", reason: "no part files given") }
        for (name, part) in parts {
            guard part.kind == .part else { throw PartFileError(file: name, reason: "a merged state, not a part: pass it with --resume") }
            func differs(_ what: String) -> PartFileError {
                PartFileError(file: name, reason: "\(what) differs from \(firstName)'s: the parts are not of one run")
            }
            if part.request != first.request { throw differs("the command or its options (\(part.command) \(String(decoding: part.request.encoded, as: UTF8.self)))") }
            if part.digest != first.digest { throw differs(String(format: "the scenario digest %016llx", part.digest)) }
            if part.seed != first.seed { throw differs("the seed \(part.seed)") }
            if part.paths != first.paths { throw differs("the path count \(part.paths)") }
            if part.slices != first.slices { throw differs("the slice count \(part.slices)") }
            if part.stage != first.stage || part.resumedFrom != first.resumedFrom { throw differs("the stage \(part.stage + 1) (or the state it resumed from)") }
            guard part.payloads.count == 1 else { throw PartFileError(file: name, reason: "a part holds one stage, this one \(part.payloads.count)") }
        }
        var owner: [Int: String] = [:]
        for (name, part) in parts {
            if let other = owner[part.slice] { throw PartFileError(file: name, reason: "slice \(part.slice)/\(part.slices) is also in \(other): every slice must be given once") }
            owner[part.slice] = name
        }
        let missing = (0..<first.slices).filter { owner[$0] == nil }
        if !missing.isEmpty {
            throw PartFileError(file: firstName, reason: "the run has \(first.slices) slices; missing: \(missing.map { "\($0)/\(first.slices)" }.joined(separator: ", ")) — no report from incomplete paths")
        }
        var known: [Data] = []
        if first.stage > 0 {
            guard let (stateName, state) = resume else {
                throw PartFileError(file: firstName, reason: "the parts are of stage \(first.stage + 1): pass the merged state of the stages before with --resume")
            }
            guard state.kind == .state else { throw PartFileError(file: stateName, reason: "a part, not a merged state (thresher merge --state-out writes those)") }
            guard state.checksum == first.resumedFrom, state.digest == first.digest, state.payloads.count == first.stage else {
                throw PartFileError(file: stateName, reason: "not the state the parts were run from (they resumed from a state of \(first.stage) stages with checksum \(String(format: "%016llx", first.resumedFrom)))")
            }
            known = state.payloads
        } else if let (stateName, _) = resume {
            throw PartFileError(file: stateName, reason: "the parts are of the first stage: they resume from no state")
        }
        self.first = first
        self.known = known
        self.parts = parts.sorted { $0.file.slice < $1.file.slice }.map { $0.file.payloads[0] }
    }
}
