import DqliteWire
import DqliteWireJSON
import DqliteWireTestSupport

/// The outcome of checking every vector of a folder.
struct GoldenReport {
    var passed = 0
    var failed = 0
    var decodeChecks = 0
    var encodeChecks = 0
    var decodeOnly = 0
    var files = 0
    var requestTypes: Set<UInt8> = []
    var responseTypes: Set<UInt8> = []
    var failures: [String] = []
}

enum Golden {
    /// Loads every `*.json` file of `directory` and checks each vector both ways, as GoldenVectorTests does.
    /// A file that cannot be read or parsed counts as one failed vector.
    static func check(directory: String) -> GoldenReport {
        var report = GoldenReport()
        let names: [String]
        do {
            names = try SystemIO.fileNames(in: directory, suffix: ".json")
        } catch {
            report.failed += 1
            report.failures.append("\(error)")
            return report
        }
        report.files = names.count
        var seen: Set<String> = []
        for name in names {
            let vectors: [GoldenVector]
            do {
                vectors = try GoldenVector.parseFile(try SystemIO.readFile(directory + "/" + name), name: name)
            } catch {
                report.failed += 1
                report.failures.append("\(name): \(error)")
                continue
            }
            for vector in vectors {
                var problems = check(vector)
                if !seen.insert(vector.id).inserted { problems.append("duplicate id") }
                if problems.isEmpty {
                    report.passed += 1
                } else {
                    report.failed += 1
                    report.failures.append("\(vector.file) \(vector.id): " + problems.joined(separator: "; "))
                }
                report.decodeChecks += 1
                if vector.canonical { report.encodeChecks += 1 } else { report.decodeOnly += 1 }
                if vector.bytes.count > 4 {
                    switch vector.direction {
                    case .request: report.requestTypes.insert(vector.bytes[4])
                    case .response: report.responseTypes.insert(vector.bytes[4])
                    }
                }
            }
        }
        return report
    }

    /// The problems found with one vector (empty when it passes).
    static func check(_ vector: GoldenVector) -> [String] {
        [vector.decodeProblem(), vector.encodeProblem()].compactMap { $0 }
    }
}
