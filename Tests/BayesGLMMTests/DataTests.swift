import Foundation
import Testing

@testable import BayesGLMM

/// Reading CSV into a `Frame`: typing, missing values, levels, lines, errors.
@Suite struct DataTests {
    // MARK: Helpers

    /// The numbers of a numeric column, or nil.
    private func numbers(_ frame: Frame, _ name: String) -> [Double]? {
        if case .numeric(let values) = frame.columns[name] { return values }
        return nil
    }

    /// The codes and levels of a factor column, or nil.
    private func factor(_ frame: Frame, _ name: String) -> (codes: [Int32], levels: [String])? {
        if case .factor(let codes, let levels) = frame.columns[name] { return (codes, levels) }
        return nil
    }

    /// The error `body` throws, or nil.
    private func error(_ body: () throws(InputError) -> Frame) -> InputError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    /// Writes `bytes` to a fresh temporary file and returns its path.
    private func temporaryFile(_ bytes: [UInt8], name: String = "data.csv") throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("DataTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    private func temporaryFile(_ text: String) throws -> String {
        try temporaryFile(Array(text.utf8))
    }

    // MARK: Typing

    @Test func numericAndFactorColumns() throws {
        let frame = try Frame.read(csvText: "y,x,group\n1,0.5,a\n0,-2.5,b\n1,1e3,a\n", source: "t.csv")
        #expect(frame.source == "t.csv")
        #expect(frame.names == ["y", "x", "group"])
        #expect(frame.rowCount == 3)
        #expect(numbers(frame, "y") == [1, 0, 1])
        #expect(numbers(frame, "x") == [0.5, -2.5, 1000])
        #expect(factor(frame, "group")?.codes == [0, 1, 0])
        #expect(factor(frame, "group")?.levels == ["a", "b"])
    }

    @Test func numbersAsRReadsThem() throws {
        let entries = ["1", "-2.5", "1e3", "Inf", "-Inf", " 3 ", "+4", ".5", "5.", "1E-2", "inf", "-Infinity",
                       "0x1A", "007", "123456789012345678901234", "1e400", "2.2250738585072014e-308"]
        let frame = try Frame.read(csvText: "v\n" + entries.joined(separator: "\n"))
        let expected: [Double] = [1, -2.5, 1000, .infinity, -.infinity, 3, 4, 0.5, 5, 0.01, .infinity, -.infinity,
                                  26, 7, 123456789012345678901234, .infinity, 2.2250738585072014e-308]
        #expect(numbers(frame, "v") == expected)
    }

    @Test func fastPathRoundsAsTheCLibraryDoes() throws {
        let entries = ["0.1", "0.3", "3.14159", "-0.000001234", "9007199254740993", "1.7976931348623157e308",
                       "4.9e-324", "123.456e-7", "0.30000000000000004"]
        let frame = try Frame.read(csvText: "v\n" + entries.joined(separator: "\n"))
        #expect(numbers(frame, "v") == entries.map { Double($0)! })
    }

    @Test func wordsAndSymbolsMakeFactors() throws {
        for entry in ["TRUE", "1x", "e3", "1e", "-", ".", "1.2.3", "nan(1)", "0x", "1,5", "Inf1", "N A"] {
            let frame = try Frame.read(csvText: "v,w\n1,2\n\"\(entry)\",3\n")
            #expect(factor(frame, "v")?.levels == ["1", entry], "entry \(entry)")
            #expect(numbers(frame, "w") == [2, 3])
        }
    }

    @Test func logicalColumnsAreFactors() throws {
        let frame = try Frame.read(csvText: "flag\nTRUE\nFALSE\nTRUE\n")
        #expect(factor(frame, "flag")?.codes == [0, 1, 0])
        #expect(factor(frame, "flag")?.levels == ["TRUE", "FALSE"])
    }

    // MARK: Missing values

    @Test func missingNumbers() throws {
        let frame = try Frame.read(csvText: "x,z\n1,\nNA,NA\nNaN,\n  ,-nan\n4,\n")
        let x = try #require(numbers(frame, "x"))
        #expect(x.count == 5)
        #expect(x[0] == 1 && x[4] == 4)
        #expect(x[1].isNaN && x[2].isNaN && x[3].isNaN)
        let z = try #require(numbers(frame, "z"))
        #expect(z.allSatisfy { $0.isNaN })
    }

    @Test func missingLevels() throws {
        let frame = try Frame.read(csvText: "g,n\nb,1\n\nNA,2\na,3\n\"\",4\nNaN,5\n,6\nb,7\n")
        // The blank line is skipped; the quoted empty field is missing.
        let g = try #require(factor(frame, "g"))
        #expect(g.levels == ["b", "a", "NaN"])
        #expect(g.codes == [0, -1, 1, -1, 2, -1, 0])
        #expect(frame.lines == [2, 4, 5, 6, 7, 8, 9])
    }

    @Test func aLoneEmptyFieldIsABlankLine() throws {
        // The library gives a blank line and a line holding only `""` alike,
        // so in a one-column file both are skipped.
        let frame = try Frame.read(csvText: "g\na\n\"\"\n\nb\n")
        #expect(factor(frame, "g")?.codes == [0, 1])
        #expect(frame.lines == [2, 5])
    }

    @Test func levelsInOrderOfFirstAppearance() throws {
        let frame = try Frame.read(csvText: "s\nzeta\nalpha\nzeta\nmu\nalpha\n")
        #expect(factor(frame, "s")?.levels == ["zeta", "alpha", "mu"])
        #expect(factor(frame, "s")?.codes == [0, 1, 0, 2, 1])
    }

    @Test func levelsKeepSurroundingSpaces() throws {
        let frame = try Frame.read(csvText: "s\na\n a\na \n")
        #expect(factor(frame, "s")?.levels == ["a", " a", "a "])
    }

    // MARK: Numbers, then text

    @Test func numbersThenTextKeepTheirSpelling() throws {
        let frame = try Frame.read(csvText: "id,n\n1,1\n2.0,2\n1,3\nNA,4\nNaN,5\nx7,6\n2.0,7\nnew,8\n1,9\n")
        let id = try #require(factor(frame, "id"))
        #expect(id.levels == ["1", "2.0", "NaN", "x7", "new"])
        #expect(id.codes == [0, 1, 0, -1, 2, 3, 1, 4, 0])
        #expect(numbers(frame, "n") == [1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    @Test func missingThenTextNeedsNoSecondPass() throws {
        let frame = try Frame.read(csvText: "g,n\nNA,1\n\"\",2\nb,3\na,4\n")
        #expect(factor(frame, "g")?.levels == ["b", "a"])
        #expect(factor(frame, "g")?.codes == [-1, -1, 0, 1])
    }

    @Test func numbersThenTextFromAFile() throws {
        var text = "id,x\n"
        for row in 0..<5000 { text += "\(row % 7),\(row)\n" }
        text += "late,5000\n"
        let path = try temporaryFile(text)
        let frame = try Frame.read(csvFile: path)
        let id = try #require(factor(frame, "id"))
        #expect(id.levels == ["0", "1", "2", "3", "4", "5", "6", "late"])
        #expect(id.codes.count == 5001)
        #expect(id.codes[0..<8] == [0, 1, 2, 3, 4, 5, 6, 0])
        #expect(id.codes.last == 7)
        #expect(numbers(frame, "x")?.last == 5000)
    }

    // MARK: Lines

    @Test func linesCountBlankLinesAndBreaksInsideQuotes() throws {
        let text = "a,b\n1,x\n\n2,\"two\nlines\"\n3,\"three\r\nmore\rlines\"\n\n\n4,y\n\n"
        let frame = try Frame.read(csvText: text)
        #expect(frame.rowCount == 4)
        #expect(frame.lines == [2, 4, 6, 11])
        #expect(factor(frame, "b")?.levels == ["x", "two\nlines", "three\r\nmore\rlines", "y"])
    }

    @Test func errorLineAfterAMultilineField() {
        let text = "a,b\n1,\"x\ny\"\n2\n"
        let problem = error { () throws(InputError) in try Frame.read(csvText: text, source: "m.csv") }
        #expect(problem == InputError(.malformedCSV, "expected 2 fields, found 1", file: "m.csv", line: 4))
    }

    // MARK: Text forms

    @Test func crlfLineEndings() throws {
        let frame = try Frame.read(csvText: "y,g\r\n1,a\r\n0,b\r\n\r\n")
        #expect(frame.names == ["y", "g"])
        #expect(numbers(frame, "y") == [1, 0])
        #expect(factor(frame, "g")?.levels == ["a", "b"])
        #expect(frame.lines == [2, 3])
    }

    @Test func byteOrderMarkInTextAndFile() throws {
        let text = "\u{FEFF}y,g\n1,a\n"
        let fromText = try Frame.read(csvText: text)
        #expect(fromText.names == ["y", "g"])
        let path = try temporaryFile([0xEF, 0xBB, 0xBF] + Array("y,g\r\n1,a\r\n".utf8))
        let fromFile = try Frame.read(csvFile: path)
        #expect(fromFile.names == ["y", "g"])
        #expect(fromFile.source == path)
        #expect(numbers(fromFile, "y") == [1])
    }

    @Test func quotedFieldsWithCommasAndQuotes() throws {
        let frame = try Frame.read(csvText: "name,\"x, the value\"\n\"Smith, J.\",\"1.5\"\n\"say \"\"hi\"\"\",2\n")
        #expect(frame.names == ["name", "x, the value"])
        #expect(factor(frame, "name")?.levels == ["Smith, J.", "say \"hi\""])
        #expect(numbers(frame, "x, the value") == [1.5, 2])
    }

    @Test func headerNamesAreTrimmed() throws {
        let frame = try Frame.read(csvText: " y ,\tx\n1,2\n")
        #expect(frame.names == ["y", "x"])
        #expect(frame.columns.keys.sorted() == ["x", "y"])
    }

    @Test func noTrailingNewline() throws {
        let frame = try Frame.read(csvText: "y\n1\n2")
        #expect(numbers(frame, "y") == [1, 2])
        #expect(frame.lines == [2, 3])
    }

    @Test func unicodeLevels() throws {
        let frame = try Frame.read(csvText: "café,g\n1,naïve\n2,日本\n")
        #expect(frame.names == ["café", "g"])
        #expect(factor(frame, "g")?.levels == ["naïve", "日本"])
    }

    // MARK: Errors

    @Test func duplicateColumn() {
        let problem = error { () throws(InputError) in try Frame.read(csvText: "y,x, y\n1,2,3\n", source: "d.csv") }
        #expect(problem == InputError(.duplicateColumn, "the column name appears more than once",
                                      file: "d.csv", line: 1, column: "y"))
    }

    @Test func emptyColumnName() {
        let problem = error { () throws(InputError) in try Frame.read(csvText: "y,  ,z\n1,2,3\n", source: "e.csv") }
        #expect(problem == InputError(.malformedCSV, "column 2 of the header has no name", file: "e.csv", line: 1))
    }

    @Test func blankHeader() {
        let problem = error { () throws(InputError) in try Frame.read(csvText: "\ny\n1\n", source: "b.csv") }
        #expect(problem == InputError(.malformedCSV, "the header row is blank", file: "b.csv", line: 1))
    }

    @Test func tooFewAndTooManyFields() {
        let few = error { () throws(InputError) in try Frame.read(csvText: "a,b,c\n1,2,3\n\n4,5\n", source: "f.csv") }
        #expect(few == InputError(.malformedCSV, "expected 3 fields, found 2", file: "f.csv", line: 4))
        let many = error { () throws(InputError) in try Frame.read(csvText: "a\n1\n2,3\n", source: "f.csv") }
        #expect(many == InputError(.malformedCSV, "expected 1 field, found 2", file: "f.csv", line: 3))
        #expect(many?.description == "f.csv, line 3: expected 1 field, found 2")
    }

    @Test func unclosedQuote() throws {
        // The open quote on line 3 swallows the rest; the field count still fits.
        let fits = "a,b\n1,x\n2,\"y\n3,z\n4,w\n"
        let problem = error { () throws(InputError) in try Frame.read(csvText: fits, source: "q.csv") }
        let expected = InputError(.malformedCSV, "a quoted field is not closed (a \" is missing before the end of the file)",
                                  file: "q.csv", line: 3)
        #expect(problem == expected)
        // Here the swallowed record has too few fields; the quote is the cause.
        let short = "a,b,c\n1,x,u\n2,\"y\n3,z,v\n"
        #expect(error { () throws(InputError) in try Frame.read(csvText: short, source: "q.csv") } == expected)
        let path = try temporaryFile(fits)
        let fromFile = error { () throws(InputError) in try Frame.read(csvFile: path) }
        #expect(fromFile?.kind == .malformedCSV)
        #expect(fromFile?.line == 3)
    }

    @Test func closedMultilineFieldAtTheEnd() throws {
        for text in ["a,b\n1,\"x\ny\"", "a,b\n1,\"x\ny\"\r\n", "a,b\n1,\"x\ny\"\n\n"] {
            let frame = try Frame.read(csvText: text)
            #expect(factor(frame, "b")?.levels == ["x\ny"])
            let fromFile = try Frame.read(csvFile: try temporaryFile(text))
            #expect(factor(fromFile, "b")?.levels == ["x\ny"])
        }
    }

    @Test func headerWithoutRows() {
        for text in ["y,x\n", "y,x", "y,x\r\n\r\n\n"] {
            let problem = error { () throws(InputError) in try Frame.read(csvText: text, source: "h.csv") }
            #expect(problem == InputError(.emptyData, "there is a header but no data rows", file: "h.csv"))
        }
    }

    @Test func emptyText() throws {
        let problem = error { () throws(InputError) in try Frame.read(csvText: "", source: "z.csv") }
        #expect(problem == InputError(.emptyData, "the file is empty; a header row is required", file: "z.csv"))
        let path = try temporaryFile("")
        let fromFile = error { () throws(InputError) in try Frame.read(csvFile: path) }
        #expect(fromFile?.kind == .emptyData)
        #expect(fromFile?.file == path)
    }

    @Test func missingFile() {
        let path = "/nonexistent/directory/data.csv"
        let problem = error { () throws(InputError) in try Frame.read(csvFile: path) }
        #expect(problem == InputError(.unreadableFile, "no such file", file: path))
        #expect(problem?.description == "/nonexistent/directory/data.csv: no such file")
    }

    @Test func directoryInsteadOfFile() {
        let path = FileManager.default.temporaryDirectory.path
        let problem = error { () throws(InputError) in try Frame.read(csvFile: path) }
        #expect(problem == InputError(.unreadableFile, "is a directory, not a CSV file", file: path))
    }

    @Test func unreadableFile() throws {
        let path = try temporaryFile("y\n1\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) }
        // Root can read anything; only check when the permission holds.
        guard !FileManager.default.isReadableFile(atPath: path) else { return }
        let problem = error { () throws(InputError) in try Frame.read(csvFile: path) }
        #expect(problem == InputError(.unreadableFile, "permission denied", file: path))
    }

    @Test func invalidUTF8() throws {
        let path = try temporaryFile(Array("y,g\n1,a\n2,".utf8) + [0xFF, 0xFE, 0x41] + Array("\n3,c\n".utf8))
        let problem = error { () throws(InputError) in try Frame.read(csvFile: path) }
        #expect(problem == InputError(.malformedCSV, "the text is not valid UTF-8", file: path, line: 3))
    }

    // MARK: Files

    @Test func fileMatchesText() throws {
        let text = "y,x,group\r\n1,0.5,\"a, b\"\r\n0,NA,c\r\n"
        let path = try temporaryFile(text)
        let fromFile = try Frame.read(csvFile: path)
        let fromText = try Frame.read(csvText: text, source: path)
        #expect(fromFile.names == fromText.names)
        #expect(fromFile.lines == fromText.lines)
        #expect(fromFile.rowCount == 2)
        #expect(factor(fromFile, "group")?.levels == ["a, b", "c"])
        #expect(numbers(fromFile, "x")?.first == 0.5)
        #expect(numbers(fromFile, "x")?.last?.isNaN == true)
    }

    @Test func fileLargerThanTheReadBuffer() throws {
        // The library reads 64 KiB at a time; rows must cross its refills intact.
        var text = "i,s\n"
        for row in 0..<20_000 { text += "\(row),\"s\(row % 3)\"\n" }
        let path = try temporaryFile(text)
        let frame = try Frame.read(csvFile: path)
        #expect(frame.rowCount == 20_000)
        #expect(numbers(frame, "i") == (0..<20_000).map(Double.init))
        #expect(factor(frame, "s")?.levels == ["s0", "s1", "s2"])
        #expect(frame.lines.last == 20_001)
    }

    @Test func syntheticData() throws {
        let path = try temporaryFile("")
        try DataBenchmark.writeSyntheticCSV(path: path, rows: 2000, seed: 7)
        let frame = try Frame.read(csvFile: path)
        #expect(frame.names == ["y", "x", "group", "client", "stylist"])
        #expect(frame.rowCount == 2000)
        let y = try #require(numbers(frame, "y"))
        #expect(y.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(Set(try #require(factor(frame, "group")).levels) == ["a", "b", "c"])
        let client = try #require(numbers(frame, "client"))
        #expect(client.allSatisfy { $0 >= 1 && $0 <= 100_000 && $0 == $0.rounded() })
        let stylist = try #require(numbers(frame, "stylist"))
        #expect(stylist.allSatisfy { $0 >= 1 && $0 <= 1000 })
        // Same seed, same file.
        let again = try temporaryFile("")
        try DataBenchmark.writeSyntheticCSV(path: again, rows: 2000, seed: 7)
        #expect(FileManager.default.contentsEqual(atPath: path, andPath: again))
    }
}
