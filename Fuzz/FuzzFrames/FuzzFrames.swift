import DqliteWire

/// libFuzzer target: a server's byte stream, fed to the frame decoder in input-dependent chunk sizes; every
/// frame is decoded as a response (SERVERS format inferred) and as a row stream. A frame that decodes must
/// re-encode and decode back to the same message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let first = input.first else { return 0 }
    let chunk = Int(first % 17) + 1
    var decoder = FrameDecoder(limits: WireLimits(maxFrameBytes: 1 << 20))
    var index = 1
    while index < input.count {
        let end = min(index + chunk, input.count)
        decoder.append(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[index..<end])))
        index = end
        while let frame = try? decoder.nextFrame() {
            checkResponseRoundTrip(frame)
            if var rows = try? RowsDecoder(frame: frame) {
                var row: [WireValue] = []
                while (try? rows.next(into: &row)) == true {}
            }
        }
    }
    return 0
}

func checkResponseRoundTrip(_ frame: Frame) {
    guard let response = try? Response(decoding: frame) else { return }
    guard let bytes = try? response.encoded(), let again = try? Frame(parsing: bytes),
        let decoded = try? Response(
            decoding: again, context: ResponseContext(clusterFormat: clusterFormat(of: response)))
    else {
        fatalError("decoded response does not re-encode: \(response)")
    }
    if decoded != response { fatalError("response round trip mismatch: \(response) vs \(decoded)") }
}

func clusterFormat(of response: Response) -> ResponseContext.ClusterFormat {
    if case .servers(let nodes) = response, nodes.first?.role == nil { return .format0 }
    return .format1
}
