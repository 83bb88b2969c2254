/// How a fuzz input becomes several values: newline-separated fields, the last taking the rest (so a
/// body may hold newlines). A field the input is too short to reach is nil, which stands for an
/// absent header or value, so the fuzzer explores "missing" as well as "hostile".
struct FuzzFields {
    private(set) var fields: [ArraySlice<UInt8>?]

    init(_ data: ArraySlice<UInt8>, count: Int) {
        fields = []
        var rest = data
        for _ in 0..<count - 1 {
            guard let newline = rest.firstIndex(of: 0x0A) else { break }
            fields.append(rest[..<newline])
            rest = rest[rest.index(after: newline)...]
        }
        fields.append(rest)
        fields += Array(repeating: nil, count: count - fields.count)
    }

    subscript(index: Int) -> ArraySlice<UInt8>? { fields[index] }

    /// The field as the servers see header values and paths: always a `String`, invalid UTF-8
    /// replaced, as an HTTP parser would hand it over.
    func text(_ index: Int) -> String? {
        fields[index].map { String(decoding: $0, as: UTF8.self) }
    }
}
