import Foundation

/// `s` as a JSON string literal (RFC 8259): quotes, backslashes and control characters escaped.
/// JSON reports and the YAML that `thresher explain` writes (a JSON string is a YAML string) use it.
public func jsonQuoted(_ s: String) -> String {
    // Most strings (ids, keys) need no escape: quoted as they are.
    if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) { return "\"" + s + "\"" }
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}
