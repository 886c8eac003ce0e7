import DqliteSQL
import DqliteShellCore
import Testing

@Suite("Error lines")
struct ErrorLineTests {
    @Test("known codes: primary, extended and dqlite's own")
    func known() {
        #expect(
            ErrorLine.format(message: "UNIQUE constraint failed: u.k", code: 2067)
                == "UNIQUE constraint failed: u.k (SQLITE_CONSTRAINT_UNIQUE)")
        #expect(ErrorLine.format(message: "database is locked", code: 5) == "database is locked (SQLITE_BUSY)")
        #expect(
            ErrorLine.format(message: "near \"selec\": syntax error", code: 1)
                == "near \"selec\": syntax error (SQLITE_ERROR)")
        #expect(ErrorLine.format(message: "not leader", code: 10250) == "not leader (SQLITE_IOERR_NOT_LEADER)")
        #expect(
            ErrorLine.format(message: "leadership lost", code: 10506)
                == "leadership lost (SQLITE_IOERR_LEADERSHIP_LOST)")
        #expect(ErrorLine.format(message: "no such database", code: 1002) == "no such database (DQLITE_NOTFOUND)")
        #expect(ErrorLine.format(message: "bad request", code: 1005) == "bad request (DQLITE_PARSE)")
        let names: [UInt64: String] = [
            0: "SQLITE_OK", 19: "SQLITE_CONSTRAINT", 101: "SQLITE_DONE", 275: "SQLITE_CONSTRAINT_CHECK",
            517: "SQLITE_BUSY_SNAPSHOT", 773: "SQLITE_BUSY_TIMEOUT", 787: "SQLITE_CONSTRAINT_FOREIGNKEY",
            1299: "SQLITE_CONSTRAINT_NOTNULL", 1555: "SQLITE_CONSTRAINT_PRIMARYKEY", 2579: "SQLITE_CONSTRAINT_ROWID",
            3091: "SQLITE_CONSTRAINT_DATATYPE", 266: "SQLITE_IOERR_READ", 3850: "SQLITE_IOERR_LOCK",
            8714: "SQLITE_IOERR_IN_PAGE", 516: "SQLITE_ABORT_ROLLBACK", 1038: "SQLITE_CANTOPEN_CONVPATH",
            264: "SQLITE_READONLY_RECOVERY", 1544: "SQLITE_READONLY_DIRECTORY", 279: "SQLITE_AUTH_USER",
            284: "SQLITE_WARNING_AUTOINDEX", 257: "SQLITE_ERROR_MISSING_COLLSEQ", 1025: "SQLITE_ERROR_RESERVESIZE",
        ]
        for (code, name) in names {
            #expect(ErrorLine.name(of: code) == name, "\(code)")
        }
    }

    @Test("unknown codes")
    func unknown() {
        #expect(ErrorLine.format(message: "odd", code: 10 | 99 << 8) == "odd (SQLITE_IOERR, code 25354)")
        #expect(ErrorLine.format(message: "odd", code: 1099) == "odd (code 1099)")
        #expect(ErrorLine.format(message: "odd", code: 99) == "odd (code 99)")
        #expect(ErrorLine.name(of: 1099) == nil)
    }

    @Test("always one line")
    func oneLine() {
        #expect(
            ErrorLine.format(message: "  first\nsecond\u{1B}[2J  ", code: 1) == #"first\nsecond\x1b[2J (SQLITE_ERROR)"#)
        #expect(ErrorLine.format(message: "", code: 19) == "SQLITE_CONSTRAINT")
        #expect(ErrorLine.format(message: "   ", code: 4242) == "code 4242")
    }
}
