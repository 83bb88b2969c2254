/// A bookable service (`GET /service`).
public struct BooxiService: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String?
    public var duration: Int?
    public var bookingMethod: String?

    public init(id: Int, name: String?, duration: Int?, bookingMethod: String?) {
        self.id = id
        self.name = name
        self.duration = duration
        self.bookingMethod = bookingMethod
    }
}
