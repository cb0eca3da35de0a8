import Foundation

/// The NumPy `.npy` format, version 1.0, for a C-order little-endian float64 matrix
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): the magic string,
/// a header dict padded with spaces to a multiple of 64 bytes, then the raw data.
public enum NpyFormat {
    /// The header bytes for a rows × columns `<f8` array.
    public static func header(rows: Int, columns: Int) -> Data {
        var dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let prefix = 10  // magic (6) + version (2) + header length (2)
        let padding = (64 - (prefix + dict.utf8.count + 1) % 64) % 64
        dict += String(repeating: " ", count: padding) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(dict.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(dict.utf8))
        return data
    }
}
