import BooxiModels
import Foundation
import Testing

@Suite("Merchant: GET /merchant/{id}, flat or wrapped, structured or one-line address")
struct MerchantDecodingTests {
    @Test func structuredAddressAndNumericStrings() throws {
        let json = #"""
            {"merchant": {"id": 1002, "name": "Plateau", "timeZone": "America/Toronto", "latitude": "45.5255", "longitude": -73.5843,
             "phoneNumber": "+1 514-555-0142", "address": {"street": "4521 rue Saint-Denis", "city": "Montréal", "state": "QC",
             "zipCode": "H2J 2L4", "country": "Canada"}, "unknown": [1]}}
            """#
        let merchant = try Merchant.decode(Array(json.utf8))
        #expect(merchant.address == "4521 rue Saint-Denis, Montréal QC H2J 2L4, Canada")
        #expect(merchant.latitude == 45.5255 && merchant.longitude == -73.5843 && merchant.timeZone == "America/Toronto")
    }

    @Test func oneLineAddressAndMissingFields() throws {
        let merchant = try Merchant.decode(Array(#"{"name": "Shop", "address": "1 Main St"}"#.utf8))
        #expect(merchant.address == "1 Main St" && merchant.latitude == nil && merchant.id == nil)
        // What we store is read back the same.
        #expect(try Merchant.decode(Array(try JSONEncoder().encode(merchant))) == merchant)
    }
}
