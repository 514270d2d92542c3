import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm describe`: what a model makes of the data.
struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the parsed model, level counts, binomial cells and balance.",
        discussion: """
            Reads DATA, parses --formula and builds the design exactly as a fit
            would, then prints: the model in canonical form; rows read, used
            and dropped; the response; the fixed-effect columns; every random
            term with its number of levels and observations per level; the
            number of binomial cells (rows with identical design rows, which
            the sampler treats as one binomial observation); and how many of
            the possible combinations of crossed factors occur.
            """)

    @OptionGroup var model: ModelOptions

    func run() throws {
        let design = try model.design()
        print(DesignReport(design).text)
    }
}
