import Foundation

/// The JSON form of a report: its document's JSON, pretty-printed, keys in documented order.
public enum JSONRenderer {
    public static func render(_ document: ReportDocument) -> Data { document.json.fileData }
}
