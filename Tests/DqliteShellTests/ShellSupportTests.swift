import DqliteSQL
import DqliteShellCore
import Foundation
import Synchronization
import Testing

@Suite("Shell support: interrupts, line sources, transactions, paths")
struct ShellSupportTests {
    @Test("run returns the operation's result; an interrupt cancels it and waits for it to stop")
    func interruptsRun() async {
        let interrupts = ShellInterrupts()
        let done = await interrupts.run { 42 }
        #expect(!done.interrupted)
        #expect((try? done.result.get()) == 42)

        let started = Mutex(false)
        let finishedCleanly = Mutex(false)
        async let outcome = interrupts.run { () async throws -> Int in
            started.withLock { $0 = true }
            defer { finishedCleanly.withLock { $0 = true } }
            try await Task.sleep(for: .seconds(60))
            return 1
        }
        while !started.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        interrupts.interrupt()
        let interrupted = await outcome
        #expect(interrupted.interrupted)
        #expect(throws: CancellationError.self) { try interrupted.result.get() }
        #expect(finishedCleanly.withLock { $0 }, "the operation has unwound when run returns")
    }

    @Test("interrupts with nothing running wake the reader; three during one operation force an exit")
    func wakeAndForceExit() async {
        let exits = Mutex(0)
        let interrupts = ShellInterrupts(forceExit: { exits.withLock { $0 += 1 } })
        interrupts.interrupt()
        interrupts.windowChanged()
        #expect(interrupts.drainWake() == [.interrupt, .resize])
        #expect(interrupts.drainWake().isEmpty)

        let started = Mutex(false)
        async let outcome = interrupts.run { () async -> Int in
            started.withLock { $0 = true }
            // Ignores cancellation for a moment, like a server that does not stop.
            for _ in 0..<200 { usleep(1000) }
            return 1
        }
        while !started.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        interrupts.interrupt()
        interrupts.interrupt()
        #expect(exits.withLock { $0 } == 0)
        interrupts.interrupt()
        #expect(exits.withLock { $0 } == 1)
        #expect(await outcome.interrupted)
        #expect(interrupts.drainWake().isEmpty, "interrupts during an operation do not reach the reader")

        interrupts.terminate()
        #expect(interrupts.isTerminating)
        #expect(interrupts.drainWake() == [.terminate])
        let refused = await interrupts.run { 1 }
        #expect(refused.interrupted, "nothing new runs once terminating")
        interrupts.terminate()
        #expect(exits.withLock { $0 } == 2, "a second termination request exits at once")
    }

    @Test("string sources split lines and count them")
    func stringSource() async {
        let source = StringLineSource("a\r\nb\n\nc", name: "x")
        var lines: [ShellLine] = []
        while true {
            let line = await source.nextLine(prompt: "")
            lines.append(line)
            if line == .end { break }
        }
        #expect(lines == [.line("a"), .line("b"), .line(""), .line("c"), .end])
        #expect(source.lineNumber == 4)
    }

    @Test("descriptor sources read lines from a pipe and stop at Ctrl-C")
    func descriptorSource() async throws {
        var descriptors: [Int32] = [-1, -1]
        #expect(pipe(&descriptors) == 0)
        let interrupts = ShellInterrupts()
        let source = FileDescriptorLineSource(
            descriptor: descriptors[0], name: "<stdin>", closeWhenDone: true, interrupts: interrupts)
        let text = Array("SELECT 1;\r\nSELECT 2;\npartial".utf8)
        #expect(text.withUnsafeBytes { write(descriptors[1], $0.baseAddress, $0.count) } == text.count)
        #expect(await source.nextLine(prompt: "") == .line("SELECT 1;"))
        #expect(await source.nextLine(prompt: "") == .line("SELECT 2;"))
        // "partial" has no newline yet: the read waits; Ctrl-C ends the wait.
        async let waiting = source.nextLine(prompt: "")
        try await Task.sleep(for: .milliseconds(50))
        interrupts.interrupt()
        #expect(await waiting == .interrupted)
        close(descriptors[1])
        #expect(await source.nextLine(prompt: "") == .line("partial"))
        #expect(await source.nextLine(prompt: "") == .end)
        #expect(source.lineNumber == 3)
    }

    @Test("the transaction tracker follows BEGIN, COMMIT, ROLLBACK and savepoints")
    func transactions() {
        var tracker = TransactionTracker()
        tracker.record(succeeded: .begin)
        #expect(tracker.isOpen)
        tracker.record(succeeded: .savepoint)
        tracker.record(succeeded: .release)
        #expect(tracker.isOpen, "RELEASE inside BEGIN keeps the transaction")
        tracker.record(succeeded: .rollbackToSavepoint)
        #expect(tracker.isOpen)
        tracker.record(succeeded: .commit)
        #expect(!tracker.isOpen)

        tracker.record(succeeded: .savepoint)
        tracker.record(succeeded: .savepoint)
        tracker.record(succeeded: .release)
        #expect(tracker.isOpen)
        tracker.record(succeeded: .release)
        #expect(!tracker.isOpen, "releasing the outermost savepoint commits")

        tracker.record(succeeded: .begin)
        tracker.record(succeeded: nil)
        tracker.record(succeeded: .rollback)
        #expect(!tracker.isOpen)
        tracker.record(succeeded: .begin)
        tracker.reset()
        #expect(!tracker.isOpen)
    }

    @Test("state directory, history file and the embedded node's stable address")
    func paths() {
        #expect(ShellPaths.stateDirectory(environment: ["XDG_STATE_HOME": "/s/", "HOME": "/h"]) == "/s/dqlite-shell")
        #expect(ShellPaths.stateDirectory(environment: ["HOME": "/home/ada"]) == "/home/ada/.local/state/dqlite-shell")
        #expect(
            ShellPaths.stateDirectory(environment: ["XDG_STATE_HOME": "relative", "HOME": "/h"])
                == "/h/.local/state/dqlite-shell")
        #expect(ShellPaths.stateDirectory(environment: [:]) == nil)
        #expect(ShellPaths.defaultDataDirectory(stateDirectory: "/s") == "/s/data")
        #expect(ShellPaths.historyFile(stateDirectory: "/s") == "/s/history")
        let address = ShellPaths.embeddedNodeAddress(dataDirectory: "/var/lib/x")
        #expect(address == ShellPaths.embeddedNodeAddress(dataDirectory: "/var/lib/x"))
        #expect(address != ShellPaths.embeddedNodeAddress(dataDirectory: "/var/lib/y"))
        #expect(address.hasPrefix("@dqlite-shell-") && address.count == "@dqlite-shell-".count + 16)
    }

    @Test("file sinks buffer, flush, and report a closed reader")
    func sinks() throws {
        var descriptors: [Int32] = [-1, -1]
        #expect(pipe(&descriptors) == 0)
        let sink = FileDescriptorSink(descriptor: descriptors[1], name: "the pipe", ownsDescriptor: true)
        sink.write("hello ")
        sink.write("world\n")
        sink.flush()
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(descriptors[0], $0.baseAddress, $0.count) }
        #expect(String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self) == "hello world\n")
        close(descriptors[0])
        signal(SIGPIPE, SIG_IGN)
        sink.write("lost\n")
        sink.flush()
        #expect(sink.failure == "the pipe was closed")
    }
}
