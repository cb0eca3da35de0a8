import Calibration
import Engine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Reports
import ScenarioSpec
import XCTest

/// `thresher serve` over HTTP (issue 36), against the built binary on a free loopback port: what-ifs
/// equal `thresher stress --shock … --json` bit for bit, jobs equal `run … --json`, a reload reads
/// the new CSV export, and hostile requests (malformed, oversized, path traversal, missing token,
/// too many jobs, a slow client) get their status without stalling or stopping the server.
final class ServeTests: BinaryTestCase {
    /// A running `thresher serve`, stopped with SIGTERM at the end of the test.
    final class Server {
        let process = Process()
        var base = ""
        let stdout = Pipe(), stderr = Pipe()

        /// Starts the server on `--port 0` and reads the bound port from its start line.
        init(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["serve"] + arguments + ["--port", "0"]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = stdout
            process.standardError = stderr
            try process.run()
            var text = ""
            let handle = stdout.fileHandleForReading
            while !text.contains("\n") {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            guard let range = text.range(of: "listening on ") else {
                process.waitUntilExit()
                throw NSError(domain: "serve", code: 1, userInfo: [NSLocalizedDescriptionKey: "no start line: \(text) \(String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))"])
            }
            base = String(text[range.upperBound...].prefix { !$0.isWhitespace }).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        }

        var port: UInt16 { UInt16(base.split(separator: ":").last!)! }

        /// SIGTERM, then the exit status.
        @discardableResult
        func stop() -> Int32 {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func serve(_ arguments: [String], environment: [String: String] = [:]) throws -> Server {
        let server = try Server(binary, arguments, environment: environment)
        addTeardownBlock { server.stop() }
        return server
    }

    /// One HTTP request; the status and body.
    func http(_ method: String, _ url: String, json: Any? = nil, body: Data? = nil, headers: [String: String] = [:]) throws -> (status: Int, data: Data) {
        try Self.http(method, url, json: json, body: body, headers: headers)
    }

    /// - Parameter session: URLSession.shared, or a session of its own (no connection shared with other requests).
    static func http(_ method: String, _ url: String, json: Any? = nil, body: Data? = nil, headers: [String: String] = [:],
                     session: URLSession = .shared) throws -> (status: Int, data: Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 120
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, Data)?
        nonisolated(unsafe) var failure: (any Error)?
        session.dataTask(with: request) { data, response, error in
            if let response = response as? HTTPURLResponse { result = (response.statusCode, data ?? Data()) } else { failure = error }
            done.signal()
        }.resume()
        done.wait()
        if let failure { throw failure }
        return (result!.0, result!.1)
    }

    func object(_ data: Data) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data.prefix(400), as: UTF8.self))
    }

    /// The JSON without what differs between two runs of the same numbers: when and how fast.
    static func stable(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { !["thresher", "elapsed_seconds", "paths_per_second", "seconds"].contains($0.key) }.mapValues(stable)
        }
        if let list = value as? [Any] { return list.map(stable) }
        return value
    }

    func assertSameJSON(_ a: Any, _ b: Any, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(NSDictionary(dictionary: ["v": Self.stable(a)]).isEqual(to: ["v": Self.stable(b)]), message, file: file, line: line)
    }

    /// A small CSV book beside its scenario (the W4 format), with the default scenario's policy.
    func csvScenario(_ folder: String, accounts: Int, leverage: Double) throws -> String {
        var positions = "account,type,asset,quantity\n", balances = "account,currency,amount\n"
        for a in 0..<accounts {
            let id = String(format: "acct-%05d", a)
            let notional = 50_000.0 + Double(a % 97) * 10_000
            positions += "\(id),perp,BTC,\((a % 3 == 0 ? -1.0 : 1.0) * notional / 95_000)\n"
            positions += "\(id),perp,ETH,\(Double(a % 5 - 2) * notional / 3_400)\n"
            balances += "\(id),USD,\(notional / leverage + Double(a % 11) * 1_000)\n"
        }
        try positions.write(toFile: "\(folder)/positions.csv", atomically: true, encoding: .utf8)
        try balances.write(toFile: "\(folder)/balances.csv", atomically: true, encoding: .utf8)
        let yaml = """
            name: csv-desk
            simulation: {paths: 20000, seed: 7, horizon_days: 1}
            market:
              rate: 0
              assets:
                - {id: BTC, spot: 95000, vol: 0.55}
                - {id: ETH, spot: 3400, vol: 0.70}
              correlation: {uniform: 0.8}
            portfolio: {positions: positions.csv, balances: balances.csv}
            policy:
              ladder:
                "*":
                  - {up_to: 100000, maintenance: 0.01, initial: 0.02}
                  - {up_to: 1000000, maintenance: 0.025, initial: 0.05}
              liquidation_penalty: 0.01
              insurance_fund: 200000

            """
        try yaml.write(toFile: "\(folder)/desk.yaml", atomically: true, encoding: .utf8)
        return "\(folder)/desk.yaml"
    }

    func testWhatIfEqualsTheCLIStressReportBitForBit() throws {
        let server = try serve(["Scenarios/default.yaml"])
        let moves = ["--shock", "BTC=-0.3", "--shock", "ETH=-0.35", "--shock-vol", "*=0.5"]
        let cli = try run(["stress", "Scenarios/default.yaml"] + moves + ["--json", "-"])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        let expected = try object(Data(cli.stdout.utf8))
        let first = try XCTUnwrap((expected["stresses"] as? [[String: Any]])?.first)

        let answer = try http("POST", server.base + "/api/whatif", json: ["shock": ["BTC=-0.3", "ETH=-0.35"], "shock_vol": ["*=0.5"], "filter": "all", "sort": "id", "limit": 1000])
        XCTAssertEqual(answer.status, 200, String(decoding: answer.data, as: UTF8.self))
        let got = try object(answer.data)
        var summary = first
        summary["accounts"] = nil
        assertSameJSON(got["stress"]!, summary, "the move's summary is the CLI's stresses[0]")
        let rows = try XCTUnwrap((got["accounts"] as? [String: Any])?["rows"] as? [[String: Any]])
        let cliRows = try XCTUnwrap(first["accounts"] as? [[String: Any]]).sorted { ($0["id"] as! String) < ($1["id"] as! String) }
        assertSameJSON(rows, cliRows, "every account's numbers are the CLI's")
        XCTAssertEqual(got["maintenance_source"] as? String, expected["maintenance_source"] as? String)
        let fund = try XCTUnwrap(got["fund"] as? [String: Any])
        XCTAssertEqual(fund["balance"] as? Double, 2_000_000)
        XCTAssertEqual(fund["holds"] as? Bool, (first["total_shortfall"] as! Double) <= 2_000_000)

        // The full report, by the answer's own link: the CLI's document, every stress after the move.
        let report = try XCTUnwrap((got["links"] as? [String: Any])?["report"] as? String)
        let full = try http("GET", server.base + report)
        XCTAssertEqual(full.status, 200)
        assertSameJSON(try object(full.data), expected, "GET \(report) is thresher stress --json")

        // The same answer again comes from the cache, identical.
        let again = try http("GET", server.base + ((got["links"] as? [String: Any])?["self"] as! String))
        assertSameJSON(try object(again.data)["accounts"]!, got["accounts"]!, "the answer's self link gives the same page")
    }

    /// A scenario with `calibration.liquidation.cascade` (here by an override): the answer carries the
    /// cascade the move sets off — the library's `StressCascade.run` on the move alone, as
    /// `thresher stress --cascade` reports it — and the fund after it.
    func testWhatIfRunsTheCascadeTheScenarioEnables() throws {
        let server = try serve(["Scenarios/default.yaml"])
        let cascadeOn = "calibration.liquidation.cascade={depth: 0.05, adl: queue}"
        let answer = try http("POST", server.base + "/api/whatif", json: ["shock": ["BTC=-0.3", "*=-0.4"], "set": [cascadeOn]])
        XCTAssertEqual(answer.status, 200, String(decoding: answer.data, as: UTF8.self))
        let cascade = try XCTUnwrap(try object(answer.data)["cascade"] as? [String: Any], "the scenario enables the cascade")
        var scenario = try WhatIf(overrides: [cascadeOn]).loadUnmoved(path: "Scenarios/default.yaml").scenario
        let move = try XCTUnwrap(try WhatIf(spotShocks: ["BTC=-0.3", "*=-0.4"]).instantMove(market: scenario.market))
        scenario.stresses = [move]
        let expected = StressCascadeReport(scenario: scenario, cascades: try StressCascade.run(scenario, file: "Scenarios/default.yaml"),
                                           overrides: ["--set \(cascadeOn)"]).json
        assertSameJSON(cascade, try JSONSerialization.jsonObject(with: expected.fileData), "the cascade is the library's, number for number")
        let rounds = try XCTUnwrap(((cascade["stresses"] as? [[String: Any]])?.first)?["rounds"] as? [Any])
        XCTAssertFalse(rounds.isEmpty, "the move liquidates someone: the timeline has rounds")
        // cascade: false turns it off.
        let off = try http("POST", server.base + "/api/whatif", json: ["shock": ["BTC=-0.3"], "set": [cascadeOn], "cascade": false])
        XCTAssertTrue(try object(off.data)["cascade"] is NSNull)
    }

    func testCSVBookWhatIfPagingAndReload() throws {
        let folder = try temporaryFolder()
        let scenario = try csvScenario(folder, accounts: 3000, leverage: 12)
        let server = try serve([scenario])
        func cliFirstStress() throws -> [String: Any] {
            let cli = try run(["stress", scenario, "--shock", "BTC=-0.12", "--json", "-"])
            XCTAssertEqual(cli.status, 0, cli.stderr)
            return try XCTUnwrap((try object(Data(cli.stdout.utf8))["stresses"] as? [[String: Any]])?.first)
        }
        func failing(offset: Int) throws -> [String: Any] {
            let answer = try http("GET", server.base + "/api/whatif?shock=BTC%3D-0.12&sort=shortfall&order=desc&limit=50&offset=\(offset)")
            XCTAssertEqual(answer.status, 200, String(decoding: answer.data, as: UTF8.self))
            return try object(answer.data)
        }
        var expected = try cliFirstStress()
        var answer = try failing(offset: 0)
        let accounts = try XCTUnwrap(answer["accounts"] as? [String: Any])
        let cliAccounts = expected["accounts"] as! [[String: Any]]
        let cliFailing = cliAccounts.filter { ($0["bankrupt"] as! Bool) || ($0["liquidated"] as! Bool) }
        XCTAssertGreaterThan(cliFailing.count, 50, "the test book has more failing accounts than a page")
        XCTAssertEqual(accounts["matching"] as? Int, cliFailing.count)
        XCTAssertEqual(accounts["total"] as? Int, 3000)
        let top = cliFailing.sorted { ($0["shortfall"] as! Double, $1["id"] as! String) > ($1["shortfall"] as! Double, $0["id"] as! String) }
        let page2 = try XCTUnwrap((try failing(offset: 50)["accounts"] as? [String: Any])?["rows"] as? [[String: Any]])
        XCTAssertEqual(page2.map { $0["shortfall"] as! Double }, top[50..<min(100, top.count)].map { $0["shortfall"] as! Double }, "page 2 continues page 1 in shortfall order")

        // A new export: every balance halved; the reload reads it, answers follow the CLI on the new files.
        let balances = try String(contentsOfFile: "\(folder)/balances.csv", encoding: .utf8).split(separator: "\n").enumerated().map { k, line in
            k == 0 ? String(line) : line.split(separator: ",").enumerated().map { c, field in c == 2 ? String(Double(field)! / 2) : String(field) }.joined(separator: ",")
        }
        try (balances.joined(separator: "\n") + "\n").write(toFile: "\(folder)/balances.csv", atomically: true, encoding: .utf8)
        let reload = try http("POST", server.base + "/api/reload")
        XCTAssertEqual(reload.status, 200, String(decoding: reload.data, as: UTF8.self))
        XCTAssertEqual(try object(reload.data)["generation"] as? Int, 2)
        expected = try cliFirstStress()
        answer = try failing(offset: 0)
        var summary = expected
        summary["accounts"] = nil
        assertSameJSON(answer["stress"]!, summary, "after the reload, the CLI's numbers on the new export")
        XCTAssertEqual(answer["generation"] as? Int, 2)

        // A broken export is refused with the CLI's message; the loaded book stays.
        try "account,currency,amount\nacct-00000,USD,not-a-number\n".write(toFile: "\(folder)/balances.csv", atomically: true, encoding: .utf8)
        let broken = try http("POST", server.base + "/api/reload")
        XCTAssertEqual(broken.status, 400)
        XCTAssertTrue(String(decoding: broken.data, as: UTF8.self).contains("balances.csv"), String(decoding: broken.data, as: UTF8.self))
        XCTAssertEqual(try object(try http("GET", server.base + "/api/scenario").data)["generation"] as? Int, 2)
    }

    func testJobsEqualTheCLIAndCanBeCancelled() throws {
        let server = try serve(["Scenarios/default.yaml", "--max-jobs", "2", "--threads", "2"])
        let submitted = try http("POST", server.base + "/api/jobs", json: ["command": "run", "paths": 20000, "seed": 7, "shock": ["BTC=-0.2"], "set": ["market.assets.BTC.vol=0.8"]])
        XCTAssertEqual(submitted.status, 202, String(decoding: submitted.data, as: UTF8.self))
        let id = try XCTUnwrap(try object(submitted.data)["id"] as? String)
        var state = ""
        for _ in 0..<600 where !["done", "failed", "cancelled"].contains(state) {
            Thread.sleep(forTimeInterval: 0.1)
            state = try object(try http("GET", server.base + "/api/jobs/\(id)").data)["state"] as? String ?? ""
        }
        XCTAssertEqual(state, "done")
        let result = try http("GET", server.base + "/api/jobs/\(id)/result")
        XCTAssertEqual(result.status, 200)
        let cli = try run(["run", "Scenarios/default.yaml", "--paths", "20000", "--seed", "7", "--shock", "BTC=-0.2", "--set", "market.assets.BTC.vol=0.8", "--json", "-"])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        assertSameJSON(try object(result.data), try object(Data(cli.stdout.utf8)), "the job's document is thresher run --json's")
        let events = try http("GET", server.base + "/api/jobs/\(id)/events")
        XCTAssertTrue(String(decoding: events.data, as: UTF8.self).contains("event: end\ndata: {"), "a finished job's event stream ends at once")

        // A long job, cancelled while it runs; a third job beyond --max-jobs 2 is refused meanwhile.
        let long = try object(try http("POST", server.base + "/api/jobs", json: ["command": "run", "paths": 200_000_000]).data)
        let longID = try XCTUnwrap(long["id"] as? String)
        let queued = try object(try http("POST", server.base + "/api/jobs", json: ["command": "evaluate", "paths": 200_000_000]).data)
        let refused = try http("POST", server.base + "/api/jobs", json: ["command": "run"])
        XCTAssertEqual(refused.status, 429, String(decoding: refused.data, as: UTF8.self))
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try http("DELETE", server.base + "/api/jobs/\(longID)").status, 202)
        XCTAssertEqual(try http("DELETE", server.base + "/api/jobs/\(queued["id"] as! String)").status, 202)
        let start = Date()
        for _ in 0..<300 where state != "cancelled" {
            Thread.sleep(forTimeInterval: 0.1)
            state = try object(try http("GET", server.base + "/api/jobs/\(longID)").data)["state"] as? String ?? ""
        }
        XCTAssertEqual(state, "cancelled")
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
        XCTAssertEqual(try http("GET", server.base + "/api/jobs/\(longID)/result").status, 409)
        XCTAssertEqual(try object(try http("GET", server.base + "/api/jobs/\(queued["id"] as! String)").data)["state"] as? String, "cancelled")
    }

    func testBadRequestsGet400WithTheCLIMessageAndNeverStopTheServer() throws {
        let folder = try temporaryFolder()
        let scenario = try csvScenario(folder, accounts: 10, leverage: 5)
        let server = try serve([scenario, "--max-body", "4096"])
        func error(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil) throws -> (Int, [String: Any]) {
            let answer = try http(method, server.base + path, json: json, body: body)
            return (answer.status, try XCTUnwrap(try object(answer.data)["error"] as? [String: Any]))
        }
        // The CLI's own message for the same bad move.
        let cli = try run(["stress", scenario, "--shock", "BTC=-1.5"])
        XCTAssertEqual(cli.status, 65)
        var (status, e) = try error("POST", "/api/whatif", json: ["shock": ["BTC=-1.5"]])
        XCTAssertEqual(status, 400)
        XCTAssertEqual("error: " + (e["message"] as! String) + "\n", cli.stderr)
        XCTAssertEqual(e["file"] as? String, "--shock")
        XCTAssertEqual(e["path"] as? String, "BTC")
        (status, e) = try error("POST", "/api/whatif", json: ["shock": ["DOGE=-0.1"]])
        XCTAssertEqual(status, 400)
        XCTAssertTrue((e["message"] as! String).contains("unknown asset 'DOGE'"))
        (status, e) = try error("POST", "/api/whatif", json: ["set": ["market.assets.BTC.vol=-1"]])
        XCTAssertEqual(status, 400)
        XCTAssertEqual(e["path"] as? String, "market.assets[0].vol")
        (status, e) = try error("POST", "/api/whatif", json: ["shock": [3]])
        XCTAssertEqual(status, 400)
        XCTAssertEqual(e["path"] as? String, "shock[0]")
        (status, e) = try error("POST", "/api/whatif", json: ["shok": ["BTC=-0.1"]])
        XCTAssertEqual(status, 400)
        XCTAssertEqual(e["path"] as? String, "shok")
        (status, _) = try error("POST", "/api/whatif", body: Data("{\"shock\": [".utf8))
        XCTAssertEqual(status, 400)
        (status, _) = try error("POST", "/api/whatif", body: Data("[1, 2]".utf8))
        XCTAssertEqual(status, 400)
        (status, _) = try error("POST", "/api/whatif", json: ["limit": 1_000_000])
        XCTAssertEqual(status, 400)
        (status, e) = try error("POST", "/api/jobs", json: ["command": "fit"])
        XCTAssertEqual(status, 400)
        XCTAssertEqual(e["path"] as? String, "command")
        // Oversized.
        (status, _) = try error("POST", "/api/whatif", json: ["shock": Array(repeating: "BTC=-0.1", count: 1000)])
        XCTAssertEqual(status, 413)
        // Files outside the scenario's folder, however named.
        for (field, value) in [("policy", "../../etc/passwd"), ("policy", "/etc/passwd"), ("market", "sub/../../x.yaml")] {
            (status, e) = try error("POST", "/api/whatif", json: [field: value])
            XCTAssertEqual(status, 400, "\(field)=\(value)")
            XCTAssertTrue((e["message"] as! String).contains("outside the scenario's folder"), "\(e)")
        }
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/link.yaml", withDestinationPath: "/etc/hostname")
        for override in ["portfolio.positions=/etc/passwd", "portfolio={positions: ../../etc/passwd, balances: balances.csv}"] {
            (status, e) = try error("POST", "/api/whatif", json: ["set": [override]])
            XCTAssertEqual(status, 400, override)
            XCTAssertTrue((e["message"] as! String).contains("outside the scenario's folder"), "\(e)")
        }
        (status, e) = try error("GET", "/api/whatif?policy=link.yaml")
        XCTAssertEqual(status, 400, "a link that leads out of the folder")
        (status, _) = try error("GET", "/api/jobs/nope")
        XCTAssertEqual(status, 404)
        (status, _) = try error("GET", "/no/such/route")
        XCTAssertEqual(status, 404)
        // Still serving.
        XCTAssertEqual(try http("GET", server.base + "/api/whatif?shock=BTC%3D-0.1").status, 200)
    }

    func testTokenIsRequiredBeyondLoopbackAndChecked() throws {
        let refused = try run(["serve", "Scenarios/default.yaml", "--host", "0.0.0.0", "--port", "0"], environment: ["THRESHER_TOKEN": ""])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.stderr.contains("THRESHER_TOKEN"), refused.stderr)
        let token = "s3cret-\(UUID().uuidString)"
        let server = try serve(["Scenarios/default.yaml", "--host", "0.0.0.0"], environment: ["THRESHER_TOKEN": token])
        let base = "http://127.0.0.1:\(server.port)"
        XCTAssertEqual(try http("GET", base + "/api/scenario").status, 401)
        XCTAssertEqual(try http("GET", base + "/api/scenario", headers: ["Authorization": "Bearer wrong"]).status, 401)
        XCTAssertEqual(try http("GET", base + "/api/scenario", headers: ["Authorization": "Bearer \(token)x"]).status, 401)
        XCTAssertEqual(try http("GET", base + "/api/scenario", headers: ["Authorization": "Bearer \(token)"]).status, 200)
        XCTAssertEqual(try http("GET", base + "/api/scenario?access_token=\(token)").status, 200)
        XCTAssertEqual(try http("GET", base + "/api/scenario", headers: ["Authorization": "bearer \(token)"]).status, 200, "the scheme is case-insensitive")
        XCTAssertEqual(try http("GET", base + "/api/scenario", headers: ["Authorization": "Bearer \(token.uppercased())"]).status, 401, "the token is not")
        XCTAssertEqual(try http("POST", base + "/api/jobs", json: ["command": "run"]).status, 401)
        XCTAssertEqual(try http("GET", base + "/").status, 200, "the page holds no data; it asks for the token")
    }

    func testPageIsSelfContainedAndOpenAPIIsTheRepositoryFile() throws {
        let server = try serve(["Scenarios/default.yaml"])
        let page = String(decoding: try http("GET", server.base + "/").data, as: UTF8.self)
        XCTAssertTrue(page.contains("<table id=\"accounts\">"))
        for external in ["<script src", "<link", "@import", "url(", "https://", "//cdn", "fonts.g"] {
            XCTAssertFalse(page.contains(external), "the page loads nothing from elsewhere: \(external)")
        }
        let served = try http("GET", server.base + "/openapi.yaml")
        XCTAssertEqual(served.status, 200)
        XCTAssertEqual(String(decoding: served.data, as: UTF8.self), try String(contentsOfFile: "openapi.yaml", encoding: .utf8))
    }

    /// A client that sends half a request and stops must not delay anyone else; SIGTERM lets a request
    /// in flight finish and exits 0.
    func testSlowClientDoesNotStallOthersAndSIGTERMDrains() throws {
        let folder = try temporaryFolder()
        let scenario = try csvScenario(folder, accounts: 60_000, leverage: 10)
        let server = try serve([scenario])
        let sockets = (0..<4).map { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        for fd in sockets {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = server.port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            XCTAssertEqual(connected, 0)
            let partial = "POST /api/whatif HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"shock\": ["
            _ = partial.withCString { send(fd, $0, strlen($0), 0) }
        }
        let start = Date()
        XCTAssertEqual(try http("GET", server.base + "/api/whatif?shock=BTC%3D-0.1").status, 200)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "answered while four clients hold half-sent requests")
        // (Graceful shutdown waits for open connections: the half-sent requests would hold it for the idle timeout.)
        sockets.forEach { close($0) }

        // SIGTERM while a what-if that re-reads the 60,000-account CSV book (an override) is computed: its
        // answer still arrives whole, and the server exits 0.
        nonisolated(unsafe) var inFlight: (status: Int, data: Data)?
        nonisolated(unsafe) var failure = ""
        let done = DispatchSemaphore(value: 0)
        let url = server.base + "/api/whatif?shock=BTC%3D-0.15&set=market.assets.ETH.vol%3D0.9&filter=all&limit=1000"
        Thread.detachNewThread {
            do { inFlight = try ServeTests.http("GET", url, session: URLSession(configuration: .ephemeral)) } catch { failure = "\(error)" }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.3)
        server.process.terminate()
        done.wait()
        XCTAssertEqual(inFlight?.status, 200, failure)
        let answer = try object(inFlight?.data ?? Data())
        XCTAssertEqual((answer["accounts"] as? [String: Any])?["total"] as? Int, 60_000)
        XCTAssertEqual(((answer["accounts"] as? [String: Any])?["rows"] as? [Any])?.count, 1000)
        server.process.waitUntilExit()
        XCTAssertEqual(server.process.terminationStatus, 0)
    }

    /// SIGTERM with a long job running and a client following its events: the job is cancelled, its
    /// stream ends with the "cancelled" state, and the server exits 0 at once.
    func testSIGTERMCancelsJobsAndEndsTheirEventStreams() throws {
        let server = try serve(["Scenarios/default.yaml"])
        let job = try object(try http("POST", server.base + "/api/jobs", json: ["command": "run", "paths": 500_000_000]).data)
        let events = server.base + "/api/jobs/\(job["id"] as! String)/events"
        nonisolated(unsafe) var stream = ""
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            stream = (try? ServeTests.http("GET", events, session: URLSession(configuration: .ephemeral))).map { String(decoding: $0.data, as: UTF8.self) } ?? "failed"
            done.signal()
        }
        Thread.sleep(forTimeInterval: 1)
        let start = Date()
        XCTAssertEqual(server.stop(), 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 15)
        done.wait()
        XCTAssertTrue(stream.contains("event: progress"), stream.prefix(300).description)
        XCTAssertTrue(stream.contains("event: end\ndata: {") && stream.contains("\"state\": \"cancelled\""), String(stream.suffix(400)))
    }

    /// 12345 → "12,345", as the page writes counts.
    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        return digits.enumerated().map { k, c in (k > 0 && (digits.count - k) % 3 == 0 ? "," : "") + String(c) }.joined()
    }

    /// The page in a real browser (headless Chromium driven by Selenium, Tests/Browser/serve_page.py):
    /// a move entered per asset gives the who-fails table the API gives; sorting and the filter work.
    /// Skipped, saying so, where no Chromium, chromedriver or Selenium could be installed (make deps-browser).
    func testPageInARealBrowserShowsWhoFails() throws {
        let probe = try run(["python3", "-c", "import selenium, shutil, sys; sys.exit(0 if shutil.which('chromedriver') and (shutil.which('chromium') or shutil.which('google-chrome')) else 3)"],
                            executable: "/usr/bin/env", environment: [:]).status
        if probe != 0 {
            throw XCTSkip("no Chromium, chromedriver or Selenium (make deps-browser installs chromium, chromium-driver and selenium): the page was not checked in a browser")
        }
        let folder = try temporaryFolder()
        let server = try serve([try csvScenario(folder, accounts: 3000, leverage: 12)])
        let browser = try run(["120", "python3", "Tests/Browser/serve_page.py", server.base, "BTC=-12"], executable: "/usr/bin/timeout")
        XCTAssertEqual(browser.status, 0, browser.stderr)
        let shown = try object(Data(browser.stdout.utf8))
        let first = try XCTUnwrap(shown["first"] as? [String: Any])
        let api = try object(try http("GET", server.base + "/api/whatif?shock=BTC%3D-0.12").data)
        let apiStress = try XCTUnwrap(api["stress"] as? [String: Any]), apiAccounts = try XCTUnwrap(api["accounts"] as? [String: Any])
        let apiRows = try XCTUnwrap(apiAccounts["rows"] as? [[String: Any]])
        let rows = try XCTUnwrap(first["rows"] as? [[String]])
        XCTAssertEqual(rows.map { $0[0] }, apiRows.map { $0["id"] as! String }, "the table lists the API's failing accounts, most at risk first")
        XCTAssertEqual(first["liquidated"] as? String, "\(apiStress["accounts_liquidated"] as! Int)")
        XCTAssertEqual(first["bankrupt"] as? String, "\(apiStress["accounts_bankrupt"] as! Int)")
        XCTAssertTrue((first["range"] as? String ?? "").contains("of \(Self.grouped(apiAccounts["matching"] as! Int))"), "\(first["range"] ?? "")")
        XCTAssertTrue((first["json_link"] as? String ?? "").contains("/api/whatif?shock=BTC%3D-0.12"), "every answer links its JSON")
        let byShortfall = try XCTUnwrap(shown["by_shortfall"] as? [[String]])
        let apiByShortfall = try XCTUnwrap((try object(try http("GET", server.base + "/api/whatif?shock=BTC%3D-0.12&sort=shortfall&order=desc").data)["accounts"] as? [String: Any])?["rows"] as? [[String: Any]])
        XCTAssertEqual(byShortfall.map { $0[0] }, apiByShortfall.map { $0["id"] as! String }, "a click on 'shortfall' sorts by it, largest first")
        let everyone = try XCTUnwrap(shown["all"] as? [String: Any])
        XCTAssertTrue((everyone["range"] as? String ?? "").contains("of 3,000"), "\(everyone)")
        XCTAssertEqual(everyone["rows"] as? Int, 100, "one page of 100 rows, not the whole book")
    }
}
