/// A free slot (`GET /service/{id}/availability`).
public struct AvailabilitySlot: Codable, Sendable, Equatable {
    public var start: String
    public var end: String?
    public var serviceId: Int?
    public var staffId: Int?
    public var duration: Int?

    public init(start: String, end: String?, serviceId: Int?, staffId: Int?, duration: Int?) {
        self.start = start
        self.end = end
        self.serviceId = serviceId
        self.staffId = staffId
        self.duration = duration
    }
}
