import Foundation
import RunStore

/// Opens stores by location.
public enum RunStores {
    /// The store at `location`: a `postgres://` or `postgresql://` URL, or an SQLite file path.
    /// - Parameter create: make the file and its tables when missing (writers); readers need an
    ///   existing store.
    /// - Throws: `StoreError`.
    public static func open(_ location: String, create: Bool) throws -> any ResultsStore {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return try PostgresRunStore(url: location, create: create)
        }
        return try SQLiteRunStore(path: location, create: create)
    }
}
