import Foundation
import Hummingbird

/// The bearer token of `/api` (`THRESHER_TOKEN`): `Authorization: Bearer TOKEN`, or `access_token`
/// in the query string (RFC 6750 §2.3; for the page's links and its event stream, which cannot set
/// headers). Compared in constant time. The page, `/openapi.yaml` and `/healthz` hold no data and
/// need none.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") || request.uri.path == "/api" else { return try await next(request, context) }
        // The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
        let header = request.headers[.authorization].flatMap { $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)) : nil }
        let given = header ?? request.uri.queryParameters["access_token"].map(String.init)
        guard let given, Self.constantTimeEqual(Array(given.utf8), token) else {
            return APIError(.unauthorized, given == nil ? "this server needs a bearer token (Authorization: Bearer …; THRESHER_TOKEN of the server)" : "wrong bearer token").response
        }
        return try await next(request, context)
    }

    /// Whether `given` equals `expected`, in a time that depends only on `expected`'s length.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = given.count ^ expected.count
        for (k, byte) in expected.enumerated() { difference |= Int((k < given.count ? given[k] : 0) ^ byte) }
        return difference == 0
    }
}

/// Every error of a handler, or of routing (404, 405), as the JSON error document.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return APIError.from(error).response
        }
    }
}
