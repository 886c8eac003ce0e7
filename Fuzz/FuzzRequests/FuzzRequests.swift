import DqliteWire

/// libFuzzer target: a client's byte stream (handshake word, then request frames). Every request that
/// decodes must re-encode to bytes that decode to the same request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var decoder = FrameDecoder(limits: WireLimits(maxFrameBytes: 1 << 20))
    decoder.append(UnsafeRawBufferPointer(start: data, count: size))
    guard (try? decoder.nextHandshake()) != nil else { return 0 }
    while let frame = try? decoder.nextFrame() {
        guard let request = try? Request(decoding: frame) else { continue }
        guard let bytes = try? request.encoded(), let again = try? Frame(parsing: bytes),
            let decoded = try? Request(decoding: again)
        else { fatalError("decoded request does not re-encode: \(request)") }
        if decoded != request { fatalError("request round trip mismatch: \(request) vs \(decoded)") }
    }
    return 0
}
