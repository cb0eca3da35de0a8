import ArgumentParser
import Foundation
import Reports

/// Where reports go besides the terminal: --json FILE, --html FILE, --csv DIR. Every file is written
/// to a temporary file and renamed, so a failure never leaves a half-written report.
struct ReportOptions: ParsableArguments {
    @Option(help: "Write the JSON report to this file.")
    var json: String?

    @Option(help: "Write a self-contained HTML report (inline SVG charts, no network) to this file.")
    var html: String?

    @Option(help: "Write per-account CSV tables into this folder (created if missing).")
    var csv: String?

    func write(json document: JSONValue, html page: @autoclosure () -> String, csvFiles: @autoclosure () -> [(name: String, contents: String)]) throws {
        if let json { try OutputFile.write(document.fileData, to: json) }
        if let html { try OutputFile.write(Data(page().utf8), to: html) }
        if let csv {
            do {
                try FileManager.default.createDirectory(atPath: csv, withIntermediateDirectories: true)
            } catch {
                throw OutputFile.Failure(path: csv, reason: "cannot create the folder")
            }
            for file in csvFiles() { try OutputFile.write(Data(file.contents.utf8), to: "\(csv)/\(file.name)") }
        }
    }
}
