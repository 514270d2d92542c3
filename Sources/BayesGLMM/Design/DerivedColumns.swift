import Foundation

extension Frame {
    /// The frame with one more column for each transformed variable of a
    /// formula (`ModelFormula.expressions`), named as the formula names it
    /// (`log(x)`, `I(x^2)`, `factor(code)`), as R's model frame evaluates
    /// them: elementwise, a missing value where a column it reads is
    /// missing. `factor(x)` of a numeric column is the column declared
    /// categorical with its distinct values in increasing order as levels
    /// (R's `factor()`: 9 before 10); of a text column, the column itself.
    /// Returns those level orders too, for `DesignOptions.levels`.
    ///
    /// Throws `InputError` naming the file, line and column for a column
    /// the formula reads that the data lack, a transformation of a column
    /// that is not numeric, and a value where the transformation is not
    /// finite (the logarithm or square root of a number ≤ 0 or < 0, a
    /// division by 0, an overflow), with the values that made it.
    ///
    /// The columns of a transformation with training constants (`scale`,
    /// `poly`, `ns`: `TrainedTransform`) are computed over all the rows
    /// where its variable is present, as R's model frame computes them
    /// before it drops rows — with `constants` where they name the
    /// transformation (a fit's, for new rows: R's safe prediction), else
    /// from these rows; the constants used are returned, by the call's text.
    public func deriving(_ expressions: [String: FormulaExpression],
                         constants given: [String: TransformConstants] = [:]) throws(InputError)
        -> (frame: Frame, levels: [String: [String]], constants: [String: TransformConstants]) {
        guard !expressions.isEmpty else { return (self, [:], [:]) }
        var frame = self, levels: [String: [String]] = [:], constants: [String: TransformConstants] = [:]
        var transforms: [String: TrainedTransform] = [:]
        for name in expressions.keys.sorted() {
            let expression = expressions[name]!
            if case let .trained(transform, _) = expression {
                transforms[transform.text] = transform
                continue
            }
            var numbers: [String: [Double]] = [:]
            for column in expression.columns {
                guard let values = columns[column] else {
                    throw InputError(.unknownColumn,
                                     "the formula's \(name) uses \"\(column)\", which is not a column of the data "
                                        + "(columns: " + self.names.joined(separator: ", ") + ")",
                                     file: source, column: column)
                }
                switch values {
                case let .numeric(v): numbers[column] = v
                case let .factor(codes, textLevels):
                    if case .factor = expression {
                        frame.columns[name] = values
                        continue
                    }
                    let row = codes.firstIndex { $0 >= 0 } ?? 0
                    throw InputError(.nonNumeric,
                                     "\(name) needs numbers, and \"\(column)\" holds text (\""
                                        + (codes.isEmpty || codes[row] < 0 ? "" : textLevels[Int(codes[row])])
                                        + "\" here)",
                                     file: source, line: codes.isEmpty ? nil : Int(lines[row]), column: column)
                }
            }
            if frame.columns[name] != nil && expression.isFactor { frame.names.append(name); continue }
            var result = [Double](repeating: .nan, count: rowCount)
            for row in 0..<rowCount {
                guard expression.columns.allSatisfy({ !numbers[$0]![row].isNaN }) else { continue }
                let value = expression.evaluate { numbers[$0]![row] }
                guard value.isFinite else {
                    let inputs = expression.columns.map { "\($0) = \(Levels.rName(numbers[$0]![row]))" }
                    throw InputError(.notFinite,
                                     "\(name) is \(Levels.rName(value)) at " + inputs.joined(separator: ", ")
                                        + DerivedColumns.reason(expression),
                                     file: source, line: Int(lines[row]), column: expression.columns.first)
                }
                result[row] = value
            }
            if case let .factor(column) = expression {
                let distinct = Set(numbers[column]!.filter { !$0.isNaN }).sorted()
                levels[name] = distinct.map(Levels.rName)
            }
            frame.columns[name] = .numeric(result)
            frame.names.append(name)
        }
        for text in transforms.keys.sorted() {
            let transform = transforms[text]!
            // The variable transformed, row by row (an expression of columns
            // is computed as above, through a derived frame of its own).
            let variable = transform.argument.text
            let (argumentFrame, _, _) = try deriving(
                transform.argument.isColumn ? [:] : [variable: transform.argument])
            guard let column = argumentFrame.columns[variable] else {
                throw InputError(.unknownColumn,
                                 "the formula's \(text) uses \"\(variable)\", which is not a column of the data "
                                    + "(columns: " + self.names.joined(separator: ", ") + ")",
                                 file: source, column: variable)
            }
            guard case let .numeric(values) = column else {
                throw InputError(.nonNumeric, "\(text) needs numbers, and \"\(variable)\" holds text",
                                 file: source, column: variable)
            }
            if case .polynomial = transform.kind, let row = values.firstIndex(where: \.isNaN) {
                throw InputError(.missingValues, "\(text) needs \(variable) on every row (R's poly refuses missing "
                                 + "values)", file: source, line: Int(lines[row]), column: variable)
            }
            let used: TransformConstants
            if let known = given[text] {
                used = known
            } else {
                switch transform.constants(from: values) {
                case let .success(found): used = found
                case let .failure(failure):
                    throw InputError(.unsupported, failure.message, file: source, column: variable)
                }
            }
            constants[text] = used
            for (j, values) in transform.columns(at: values, constants: used).enumerated() {
                let name = transform.columnName(j + 1)
                guard expressions[name] != nil else { continue }
                frame.columns[name] = .numeric(values)
                frame.names.append(name)
            }
        }
        return (frame, levels, constants)
    }
}

enum DerivedColumns {
    /// Why a transformation may not be finite, for the message.
    static func reason(_ expression: FormulaExpression) -> String {
        let text = expression.text
        if text.contains("log(") { return " (the logarithm of a number ≤ 0 is not finite; log1p takes numbers > −1)" }
        if text.contains("sqrt(") { return " (the square root of a negative number is not a number)" }
        if text.contains("/") { return " (a division by 0?)" }
        return " (the number overflows double precision)"
    }
}
