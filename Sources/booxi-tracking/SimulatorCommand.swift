import ArgumentParser
import AsyncHTTPClient
import BooxiSimulator
import Foundation
import NIOCore
import TrackingConfig

struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulator",
        abstract: "A Booxi API look-alike with fault injection and a webhook sender (dev and tests only).",
        subcommands: [SimulatorServeCommand.self, SimulatorBookCommand.self],
        defaultSubcommand: SimulatorServeCommand.self)
}

struct SimulatorServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve /booking/v1 like Booxi, and send webhooks to simulator.webhookUrl.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try await loadConfiguration(options)
        try await RoleRunner.run(role: "simulator", configuration: configuration) { role in
            try simulatorServices(configuration: configuration, role: role)
        }
    }
}

struct SimulatorBookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "book",
        abstract: "Create a booking in the running simulator; it fires booking.confirmed to the ingress.",
        discussion: "Example: booxi-tracking simulator book --service 100 --at 2026-12-01T14:00:00Z")
    @Option(help: "Service id (100 Haircut, 101 Colour, 102 Beard trim).") var service: Int = 100
    @Option(help: "Start, ISO-8601 (default: tomorrow 10:00 UTC).") var at: String?
    @Option(help: "Client first name.") var firstName: String = "Jane"
    @Option(help: "Client last name.") var lastName: String = "Doe"
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try await loadConfiguration(options)
        let startsOn =
            at
            ?? {
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: "UTC")!
                return calendar.startOfDay(for: Date().addingTimeInterval(86_400)).addingTimeInterval(10 * 3600).formatted(.iso8601)
            }()
        let body = try JSONSerialization.data(withJSONObject: [
            "serviceId": service, "startsOn": startsOn, "firstName": firstName, "lastName": lastName,
        ])
        var request = HTTPClientRequest(
            url:
                "http://\(configuration.simulator.host == "0.0.0.0" ? "127.0.0.1" : configuration.simulator.host):\(configuration.simulator.port)/simulator/bookings"
        )
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok,
            let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let code = json["trackingCode"] as? String
        else {
            throw RuntimeFailure("simulator refused the booking (\(response.status.code)): \(text)")
        }
        print(code)
    }
}
