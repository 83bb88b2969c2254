import BooxiModels
import Foundation
@testable import ReadAPI
import Testing
import TrackingConfig

@Suite("Venue: Booxi's store details, page.venue filling gaps or overriding, directions")
struct VenueTests {
    static let merchant = Merchant(
        name: "Plateau", address: nil, timeZone: "America/Toronto", latitude: 45.5, longitude: -73.5, phoneNumber: "+1 514")

    @Test func pageVenueFillsOnlyWhatBooxiLacks() {
        let venue = Venue(
            merchant: Self.merchant, settings: VenueSettings(name: "Ours", address: "1 Main St", phone: "+1 999"), defaultTimeZone: "UTC")
        #expect(venue.name == "Plateau" && venue.address == "1 Main St" && venue.phone == "+1 514" && venue.timeZone == "America/Toronto")
        #expect(venue.directionsUrl == "https://www.google.com/maps/dir/?api=1&destination=45.5,-73.5")
    }

    @Test func overrideWins() {
        let settings = VenueSettings(name: "Ours", address: "1 Main St", latitude: 1, longitude: 2, override: true)
        let venue = Venue(merchant: Self.merchant, settings: settings, defaultTimeZone: "UTC")
        #expect(venue.name == "Ours" && venue.phone == "+1 514" && venue.latitude == 1 && venue.longitude == 2)
    }

    @Test func withoutAStoreTheZoneIsThePagesAndDirectionsUseTheAddress() {
        let venue = Venue(merchant: nil, settings: VenueSettings(address: "4521 rue Saint-Denis, Montréal"), defaultTimeZone: "Europe/Paris")
        #expect(venue.timeZone == "Europe/Paris")
        #expect(venue.directionsUrl == "https://www.google.com/maps/dir/?api=1&destination=4521%20rue%20Saint-Denis,%20Montr%C3%A9al")
        #expect(Venue(merchant: Merchant(timeZone: "Not/AZone"), settings: VenueSettings(), defaultTimeZone: "UTC").timeZone == "UTC")
    }
}
