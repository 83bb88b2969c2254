import Foundation

/// A Booxi webhook body for tests: the fields the pipeline reads, with an optional event time (ms).
public func webhookBody(_ event: String, booking: String, code: String, status: String = "Approved", eventTime: Int64? = nil) -> String {
    let time = eventTime.map { #","timestamp":"\#(Date(timeIntervalSince1970: Double($0) / 1000).formatted(.iso8601))""# } ?? ""
    return
        #"{"event":"\#(event)"\#(time),"booking":{"confirmationNumber":"\#(booking)","status":"\#(status)","client":{"firstName":"F","lastName":"L","trackingPage":{"viewURL":"https://book.booxi.com/tracking/\#(code)"}}}}"#
}
