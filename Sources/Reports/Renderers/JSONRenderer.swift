import Foundation

/// The JSON form of a report: its document's JSON, pretty-printed, keys in documented order.
public enum JSONRenderer {
    /// The document's JSON with the `thresher` object (version, commit, generated_at) appended.
    public static func render(_ document: ReportDocument) -> Data {
        guard case .object(let fields) = document.json else { return document.json.fileData }
        return JSONValue.object(fields + [("thresher", BuildInfo.json(at: document.generatedAt))]).fileData
    }
}
