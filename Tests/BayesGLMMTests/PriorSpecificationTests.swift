import Foundation
import Testing
@testable import BayesGLMM

@Suite("PriorSpecificationTests")
struct PriorSpecificationTests {
    /// Priors after applying `specifications` in order to the defaults.
    func priors(_ specifications: String...) throws -> Priors {
        var priors = Priors()
        for specification in specifications { try priors.apply(specification) }
        return priors
    }

    /// The error `apply` throws for `text`.
    func failure(_ text: String) -> PriorError? {
        var priors = Priors()
        do {
            try priors.apply(text)
            return nil
        } catch {
            return error
        }
    }

    /// Checks that `text` is rejected with exactly `message` at `column`.
    func expectFailure(_ text: String, _ message: String, column: Int,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = failure(text) else {
            Issue.record("'\(text)' was accepted", sourceLocation: sourceLocation)
            return
        }
        #expect(error.message == message, sourceLocation: sourceLocation)
        #expect(error.column == column, sourceLocation: sourceLocation)
        #expect(error.text == text, sourceLocation: sourceLocation)
    }

    // MARK: - Accepted forms

    @Test func defaultStandardDeviation() throws {
        let result = try priors("sd ~ half_t(3, 0, 2.5)")
        #expect(result.standardDeviations == .halfT(degrees: 3, scale: 2.5))
        #expect(result.standardDeviation.isEmpty)
        let changed = try priors("sd ~ half_t(4, 0, 1)")
        #expect(changed.standardDeviations == .halfT(degrees: 4, scale: 1))
        #expect(changed.scale("client") == .halfT(degrees: 4, scale: 1))
    }

    @Test func standardDeviationOfOneTerm() throws {
        let result = try priors(
            "sd(client) ~ half_cauchy(0, 1)",
            "sd(client:stylist) ~ half_normal(0, 1)",
            "sd(stylist) ~ inv_gamma(1, 0.5)",
            "sd(x) ~ uniform(0, 10)",
            "sd(y) ~ exponential(1)",
            "sd(z) ~ lognormal(-1, 0.5)",
            "sd(w) ~ uniform(0.5, 2)")
        #expect(result.standardDeviation == [
            "client": .halfCauchy(scale: 1),
            "client:stylist": .halfNormal(scale: 1),
            "stylist": .inverseGamma(shape: 1, scale: 0.5),
            "x": .uniform(upper: 10),
            "y": .exponential(rate: 1),
            "z": .lognormal(mu: -1, sigma: 0.5),
            "w": .uniform(lower: 0.5, upper: 2),
        ])
        #expect(result.standardDeviations == .standard)
        #expect(result.scale("client:stylist") == .halfNormal(scale: 1))
        #expect(result.scale("other") == .standard)
    }

    @Test func intercept() throws {
        let result = try priors("Intercept ~ normal(0, 5)")
        #expect(result.intercept == NormalPrior(mean: 0, standardDeviation: 5))
        #expect(result.fixed("(Intercept)") == NormalPrior(mean: 0, standardDeviation: 5))
        #expect(result.coefficients == Priors().coefficients)
        // `(Intercept)` as model.matrix names it is the same parameter.
        let quoted = try priors("b(`(Intercept)`) ~ normal(1, 10)")
        #expect(quoted.intercept == NormalPrior(mean: 1, standardDeviation: 10))
        #expect(quoted.coefficient.isEmpty)
    }

    @Test func coefficients() throws {
        let result = try priors(
            "b ~ normal(0, 1)",
            "b(x1) ~ normal(0, 2)",
            "b(groupb) ~ normal(1, 0.5)",
            "b(x:z) ~ normal(-1, 3)",
            "b(`age 30+`) ~ normal(0, 1e-3)",
            "b(x:`level b`) ~ normal(2, 4)")
        #expect(result.coefficients == NormalPrior(mean: 0, standardDeviation: 1))
        #expect(result.coefficient == [
            "x1": NormalPrior(mean: 0, standardDeviation: 2),
            "groupb": NormalPrior(mean: 1, standardDeviation: 0.5),
            "x:z": NormalPrior(mean: -1, standardDeviation: 3),
            "age 30+": NormalPrior(mean: 0, standardDeviation: 0.001),
            "x:level b": NormalPrior(mean: 2, standardDeviation: 4),
        ])
        #expect(result.fixed("x1") == NormalPrior(mean: 0, standardDeviation: 2))
        #expect(result.fixed("x2") == NormalPrior(mean: 0, standardDeviation: 1))
        #expect(result.intercept == Priors().intercept)
    }

    /// `cov(term) ~ huang_wand(ν, A)`, Huang & Wand's covariance prior for a
    /// term with slopes, and what it refuses.
    @Test func covarianceOfATermWithSlopes() throws {
        let result = try priors("cov(client) ~ huang_wand(2, 2.5)")
        #expect(result.covariance == ["client": CovariancePrior(degrees: 2, scale: 2.5)])
        #expect(result.standardDeviation.isEmpty)
        #expect(try PriorSpecification.parse("cov( client ) ~ huang_wand(4,1)").description
                == "cov(client) ~ huang_wand(4, 1)")
        expectFailure("cov(client) ~ half_t(3, 0, 2.5)",
                      "cov takes huang_wand (Huang & Wand's prior; a prior on one SD is written sd(term) ~ …)",
                      column: 15)
        expectFailure("sd(client) ~ huang_wand(2, 2.5)",
                      "huang_wand is a prior on a covariance: write cov(term) ~ huang_wand(degrees, scale)", column: 14)
        expectFailure("cov ~ huang_wand(2, 2.5)",
                      "cov takes a random term's name, as in cov(client) ~ huang_wand(2, 2.5)", column: 5)
        expectFailure("cov(client) ~ huang_wand(0, 2.5)", "huang_wand's degrees must be positive, not 0", column: 26)
        expectFailure("cov(client) ~ huang_wand(2)", "huang_wand takes 2 arguments (degrees, scale), not 1", column: 27)
        #expect(throws: PriorError.self) {
            try Priors(specifications: ["cov(clients) ~ huang_wand(2, 2.5)"], terms: ["client"], fixed: [])
        }
        let described = try Priors(specifications: ["cov(client) ~ huang_wand(2, 2.5)"], terms: ["client"],
                                   fixed: []).describe(terms: ["client"], fixed: [])
        #expect(described.first == "cov(client) ~ huang_wand(2, 2.5)")
        // LKJ on the correlations.
        #expect(try priors("cor(client) ~ lkj(2)").correlation == ["client": 2])
        #expect(try PriorSpecification.parse("cor(client:stylist) ~ lkj(1.5)").description
                == "cor(client:stylist) ~ lkj(1.5)")
        expectFailure("cor(client) ~ huang_wand(2, 2.5)", "cor takes lkj (LKJ's prior on a correlation matrix)",
                      column: 15)
        expectFailure("sd(client) ~ lkj(2)", "lkj is a prior on a correlation matrix: write cor(term) ~ lkj(eta)",
                      column: 14)
        expectFailure("cor ~ lkj(2)", "cor takes a random term's name, as in cor(client) ~ lkj(2)", column: 5)
        expectFailure("cor(client) ~ lkj(0)", "lkj's eta must be positive, not 0", column: 19)
    }

    @Test func whitespaceAnywhereBetweenTokens() throws {
        let result = try priors("  sd ( client : stylist )~half_t( 3 ,0 , 2.5 )  ", "b(x)~normal(0,1)")
        #expect(result.standardDeviation == ["client:stylist": .halfT(degrees: 3, scale: 2.5)])
        #expect(result.coefficient == ["x": NormalPrior(mean: 0, standardDeviation: 1)])
        let tabs = try PriorSpecification.parse("\tb\t~\tnormal(0,\t1)")
        #expect(tabs.parameter == .coefficients)
    }

    @Test(arguments: [
        ("2.5", 2.5), (".5", 0.5), ("5.", 5), ("1e-3", 0.001), ("1E3", 1000),
        ("2.5e+1", 25), ("-1", -1), ("+2", 2), ("- 1.5e2", -150), ("0", 0), ("007", 7),
    ])
    func rLikeNumbers(written: String, value: Double) throws {
        let specification = try PriorSpecification.parse("b ~ normal(\(written), 1)")
        #expect(specification.distribution == .normal(NormalPrior(mean: value, standardDeviation: 1)))
    }

    @Test func laterSpecificationsReplaceEarlierOnes() throws {
        let result = try priors("b(x) ~ normal(0, 1)", "b(x) ~ normal(0, 2)",
                                "sd ~ half_cauchy(0, 1)", "sd ~ half_normal(0, 3)")
        #expect(result.coefficient == ["x": NormalPrior(mean: 0, standardDeviation: 2)])
        #expect(result.standardDeviations == .halfNormal(scale: 3))
    }

    @Test func specificPriorsWinOverGeneralOnesInAnyOrder() throws {
        let result = try priors("sd(client) ~ exponential(2)", "sd ~ half_cauchy(0, 1)",
                                "b(x) ~ normal(0, 1)", "b ~ normal(0, 10)")
        #expect(result.scale("client") == .exponential(rate: 2))
        #expect(result.scale("stylist") == .halfCauchy(scale: 1))
        #expect(result.fixed("x") == NormalPrior(mean: 0, standardDeviation: 1))
        #expect(result.fixed("z") == NormalPrior(mean: 0, standardDeviation: 10))
    }

    @Test func parsedSpecification() throws {
        let specification = try PriorSpecification.parse("sd( client:stylist ) ~ half_normal(0, 1)")
        #expect(specification.parameter == .standardDeviation("client:stylist"))
        #expect(specification.distribution == .scale(.halfNormal(scale: 1)))
        #expect(specification.nameColumn == 5)
        #expect(specification.description == "sd(client:stylist) ~ half_normal(0, 1)")
        let general = try PriorSpecification.parse("  b ~ normal(0, 1)")
        #expect(general.nameColumn == 3)
        #expect(general.description == "b ~ normal(0, 1)")
        let quoted = try PriorSpecification.parse("b(`age 30+`:x) ~ normal(0.5, 2)")
        #expect(quoted.description == "b(`age 30+`:x) ~ normal(0.5, 2)")
    }

    /// `ScalePrior.description` and `NormalPrior.written` are in the syntax
    /// `apply` accepts, and parse back to the same prior.
    @Test(arguments: [
        ScalePrior.standard, .halfT(degrees: 1.5, scale: 0.25), .halfCauchy(scale: 1e-5),
        .halfNormal(scale: 2), .inverseGamma(shape: 0.001, scale: 0.001), .uniform(upper: 100),
        .exponential(rate: 1.25e20), .lognormal(mu: 0, sigma: 1), .lognormal(mu: -2.5, sigma: 0.125),
        .lognormal(mu: 1e-3, sigma: 7), .uniform(lower: 0.5, upper: 3), .uniform(lower: 1e-4, upper: 2.5e-3),
    ])
    func scalePriorDescriptionsParseBack(prior: ScalePrior) throws {
        let result = try priors("sd(g) ~ \(prior)", "sd ~ \(prior)")
        #expect(result.standardDeviation["g"] == prior)
        #expect(result.standardDeviations == prior)
    }

    @Test func normalPriorsParseBack() throws {
        for prior in [NormalPrior(mean: 0, standardDeviation: 2.5), NormalPrior(mean: -0.125, standardDeviation: 1e-7)] {
            #expect(try priors("b ~ \(prior.written)").coefficients == prior)
            #expect(try priors("b ~ \(prior.description)").coefficients == prior)
        }
        #expect(NormalPrior(mean: 0, standardDeviation: 2.5).written == "normal(0, 2.5)")
    }

    // MARK: - Errors

    @Test func emptyText() {
        expectFailure("", "empty prior specification; write a parameter, '~' and a distribution, "
                      + "e.g. sd ~ half_t(3, 0, 2.5) or b(x) ~ normal(0, 1)", column: 1)
        #expect(failure("   ")?.column == 4)
        #expect(failure("   ")?.message.hasPrefix("empty prior specification") == true)
    }

    @Test func unknownParameterClass() {
        expectFailure("foo ~ normal(0, 1)",
                      "unknown parameter class 'foo'; use sd, sd(term), Intercept, b, b(column), cov(term) or cor(term)", column: 1)
        expectFailure("intercept ~ normal(0, 1)",
                      "unknown parameter class 'intercept'; use sd, sd(term), Intercept, b, b(column), cov(term) or cor(term) "
                      + "(did you mean Intercept?)", column: 1)
        expectFailure("  SD ~ half_cauchy(0, 1)",
                      "unknown parameter class 'SD'; use sd, sd(term), Intercept, b, b(column), cov(term) or cor(term) (did you mean sd?)",
                      column: 3)
        expectFailure("half_t(3, 0, 2.5)",
                      "unknown parameter class 'half_t'; use sd, sd(term), Intercept, b, b(column), cov(term) or cor(term) before '~' "
                      + "(e.g. sd ~ half_t(3, 0, 2.5) or b(x) ~ normal(0, 1))", column: 1)
        expectFailure("~ normal(0, 1)",
                      "missing the parameter before '~' (sd, sd(term), Intercept, b, b(column), cov(term) or cor(term))", column: 1)
        expectFailure("`sd` ~ normal(0, 1)",
                      "expected a parameter (sd, sd(term), Intercept, b, b(column), cov(term) or cor(term)), not '`sd`'", column: 1)
        expectFailure("2 ~ normal(0, 1)",
                      "expected a parameter (sd, sd(term), Intercept, b, b(column), cov(term) or cor(term)), not '2'", column: 1)
    }

    @Test func missingTilde() {
        expectFailure("sd half_t(3, 0, 2.5)", "expected '~' after 'sd', not 'half_t'", column: 4)
        expectFailure("sd(client) = half_cauchy(0, 1)", "unexpected character '='", column: 12)
        expectFailure("b(x1) normal(0, 1)", "expected '~' after 'b(x1)', not 'normal'", column: 7)
        expectFailure("sd(client)",
                      "missing '~' and a distribution after 'sd(client)'; "
                      + "e.g. sd ~ half_t(3, 0, 2.5) or b(x) ~ normal(0, 1)", column: 11)
    }

    @Test func namesInParentheses() {
        expectFailure("sd() ~ half_t(3, 0, 1)",
                      "empty parentheses; write sd for every term, or name a random term as in sd(name)", column: 4)
        expectFailure("b( ) ~ normal(0, 1)",
                      "empty parentheses; write b for every coefficient, or name a coefficient as in b(name)",
                      column: 4)
        expectFailure("sd(client ~ half_t(3, 0, 1)",
                      "expected ':' or ')' after 'client', not '~'; backquote names with other characters", column: 11)
        expectFailure("sd(client", "unclosed parenthesis", column: 3)
        expectFailure("b(x:", "unclosed parenthesis", column: 2)
        expectFailure("b(x:) ~ normal(0, 1)", "expected a coefficient name in b(...), not ')'", column: 5)
        expectFailure("sd(1) ~ half_t(3, 0, 1)", "expected a random term name in sd(...), not '1'", column: 4)
        expectFailure("sd(client/stylist) ~ half_t(3, 0, 1)", "unexpected character '/'", column: 10)
        expectFailure("b(`x ~ normal(0, 1)", "unclosed backquote", column: 3)
        expectFailure("b(``) ~ normal(0, 1)", "empty backquoted name", column: 3)
        expectFailure("Intercept(x) ~ normal(0, 1)",
                      "Intercept takes no name; write Intercept ~ normal(mean, sd)", column: 10)
    }

    @Test func unknownDistribution() {
        let known = "the known ones are half_t, half_cauchy, half_normal, inv_gamma, uniform, exponential, lognormal, normal, huang_wand and lkj"
        expectFailure("sd ~ gamma(1, 1)", "unknown distribution 'gamma'; \(known)", column: 6)
        expectFailure("sd ~ student_t(3, 0, 2.5)",
                      "unknown distribution 'student_t'; \(known) (did you mean half_t?)", column: 6)
        expectFailure("b ~ Normal(0, 1)", "unknown distribution 'Normal'; \(known) (did you mean normal?)", column: 5)
        expectFailure("sd ~ lnorm(0, 1)", "unknown distribution 'lnorm'; \(known) (did you mean lognormal?)", column: 6)
        expectFailure("b ~", "expected a distribution after '~', e.g. sd ~ half_t(3, 0, 2.5) or b(x) ~ normal(0, 1)",
                      column: 4)
        expectFailure("b ~ 0", "expected a distribution after '~', not '0'", column: 5)
        expectFailure("b ~ normal", "expected '(' after 'normal'", column: 11)
        expectFailure("b ~ normal 0, 1", "expected '(' after 'normal'", column: 12)
    }

    @Test func distributionThatDoesNotFitTheParameter() {
        let scales = "half_t, half_cauchy, half_normal, inv_gamma, uniform, exponential or lognormal"
        expectFailure("sd ~ normal(0,1)",
                      "sd takes \(scales) (for a half-normal on σ write half_normal(0, scale))", column: 6)
        expectFailure("sd(client) ~ normal(0, 1)",
                      "sd takes \(scales) (for a half-normal on σ write half_normal(0, scale))", column: 14)
        expectFailure("b ~ half_t(3, 0, 2.5)", "coefficients take normal", column: 5)
        expectFailure("b(x1) ~ exponential(1)", "coefficients take normal", column: 9)
        expectFailure("Intercept ~ uniform(0, 10)", "Intercept takes normal", column: 13)
    }

    @Test func wrongNumberOfArguments() {
        // Too few: at the ')'; too many: at the first surplus argument.
        expectFailure("sd ~ half_t(3, 2.5)", "half_t takes 3 arguments (degrees, location, scale), not 2", column: 19)
        expectFailure("sd ~ half_cauchy(1)", "half_cauchy takes 2 arguments (location, scale), not 1", column: 19)
        expectFailure("sd ~ half_normal()", "half_normal takes 2 arguments (location, scale), not 0", column: 18)
        expectFailure("sd ~ inv_gamma(1, 1, 1)", "inv_gamma takes 2 arguments (shape, scale), not 3", column: 22)
        expectFailure("sd ~ uniform(10)", "uniform takes 2 arguments (lower bound, upper bound), not 1", column: 16)
        expectFailure("sd ~ exponential(1, 2)", "exponential takes 1 argument (rate), not 2", column: 21)
        expectFailure("sd ~ lognormal(0)", "lognormal takes 2 arguments (mu, sigma), not 1", column: 17)
        expectFailure("b ~ normal(1)", "normal takes 2 arguments (mean, sd), not 1", column: 13)
        expectFailure("b ~ normal(0, 1, -2)", "normal takes 2 arguments (mean, sd), not 3", column: 18)
    }

    @Test func argumentsOutOfRange() {
        expectFailure("sd ~ half_t(3, 1, 2.5)", "half_t's location must be 0, not 1", column: 16)
        expectFailure("sd ~ half_t(-1, 0, 2.5)", "half_t's degrees must be positive, not -1", column: 13)
        expectFailure("sd ~ half_t(0, 0, 2.5)", "half_t's degrees must be positive, not 0", column: 13)
        expectFailure("sd ~ half_t(3, 0, 0)", "half_t's scale must be positive, not 0", column: 19)
        expectFailure("sd ~ half_cauchy(-0.5, 1)", "half_cauchy's location must be 0, not -0.5", column: 18)
        expectFailure("sd ~ half_cauchy(0, -1)", "half_cauchy's scale must be positive, not -1", column: 21)
        expectFailure("sd ~ half_normal(2, 1)", "half_normal's location must be 0, not 2", column: 18)
        expectFailure("sd ~ half_normal(0, 0)", "half_normal's scale must be positive, not 0", column: 21)
        expectFailure("sd ~ inv_gamma(0, 1)", "inv_gamma's shape must be positive, not 0", column: 16)
        expectFailure("sd ~ inv_gamma(1, -0.5)", "inv_gamma's scale must be positive, not -0.5", column: 19)
        expectFailure("sd ~ uniform(-1, 10)", "uniform's lower bound must be at least 0, not -1", column: 14)
        expectFailure("sd ~ uniform(2, 1)",
                      "uniform's lower bound must be below its upper bound, not uniform(2, 1)", column: 14)
        expectFailure("sd ~ uniform(1.5, 1.5)",
                      "uniform's lower bound must be below its upper bound, not uniform(1.5, 1.5)", column: 14)
        expectFailure("sd ~ lognormal(0, -1)", "lognormal's sigma must be positive, not -1", column: 19)
        expectFailure("sd ~ lognormal(0, 0)", "lognormal's sigma must be positive, not 0", column: 19)
        expectFailure("sd ~ uniform(0, -10)", "uniform's upper bound must be positive, not -10", column: 17)
        expectFailure("sd ~ exponential(0)", "exponential's rate must be positive, not 0", column: 18)
        expectFailure("b ~ normal(0, 0)", "normal's sd must be positive, not 0", column: 15)
        expectFailure("b ~ normal(0, -2.5)", "normal's sd must be positive, not -2.5", column: 15)
        // Every number must be finite.
        expectFailure("b ~ normal(Inf, 1)", "normal's mean must be finite, not Inf", column: 12)
        expectFailure("b ~ normal(-Inf, 1)", "normal's mean must be finite, not -Inf", column: 12)
        expectFailure("b ~ normal(0, 1e999)", "normal's sd must be finite, not Inf", column: 15)
        expectFailure("sd ~ half_t(NaN, 0, 1)", "half_t's degrees must be finite, not NaN", column: 13)
        expectFailure("sd ~ uniform(0, Inf)", "uniform's upper bound must be finite, not Inf", column: 17)
        expectFailure("sd ~ lognormal(-Inf, 1)", "lognormal's mu must be finite, not -Inf", column: 16)
    }

    @Test func malformedArguments() {
        expectFailure("sd(client) ~ half_t(3 0, 2.5)", "expected ',' between the arguments of half_t", column: 23)
        expectFailure("b ~ normal(0 ~ 1)", "expected ',' or ')' in the arguments of normal, not '~'", column: 14)
        expectFailure("b ~ normal(0, )", "expected a number", column: 15)
        expectFailure("b ~ normal(, 1)", "expected a number", column: 12)
        expectFailure("b ~ normal(0, a)", "arguments must be numbers, not 'a'", column: 15)
        expectFailure("b ~ normal(0, `Inf`)", "arguments must be numbers, not '`Inf`'", column: 15)
        expectFailure("b ~ normal(0, 1.2.3)", "malformed number '1.2.3'", column: 15)
        expectFailure("b ~ normal(0, 1e)", "malformed number '1e'", column: 15)
        expectFailure("b ~ normal(0, 1L)", "malformed number '1L'", column: 15)
        expectFailure("b ~ normal(0, 0x1F)", "malformed number '0x1F'", column: 15)
        expectFailure("b ~ normal(0, 1", "unclosed parenthesis", column: 11)
        expectFailure("b ~ normal(0,", "unclosed parenthesis", column: 11)
    }

    @Test func trailingText() {
        expectFailure("b ~ normal(0, 1) extra", "unexpected 'extra' after the distribution", column: 18)
        expectFailure("b ~ normal(0, 1))", "unexpected ')' after the distribution", column: 17)
        expectFailure("sd ~ half_t(3, 0, 2.5) ~ half_cauchy(0, 1)", "unexpected '~' after the distribution", column: 24)
        expectFailure("b ~ normal(0, 1) @", "unexpected character '@'", column: 18)
    }

    @Test func failedApplyLeavesPriorsUnchanged() throws {
        var result = try priors("b ~ normal(0, 1)")
        let before = result
        #expect(throws: PriorError.self) { try result.apply("b ~ normal(0, -1)") }
        #expect(result == before)
    }

    @Test func errorDescriptionPointsAtTheColumn() {
        let error = failure("sd(client) ~ half_t(3 0, 2.5)")
        #expect(error?.description == """
            expected ',' between the arguments of half_t at column 23
              sd(client) ~ half_t(3 0, 2.5)
                                    ^
            """)
        let unplaced = PriorError(message: "prior for sd(x): the model has no random terms")
        #expect(unplaced.column == 0)
        #expect(unplaced.description == "prior for sd(x): the model has no random terms")
    }

    // MARK: - Checking names against the model

    let terms = ["client", "stylist", "client:stylist"]
    let fixed = ["(Intercept)", "x1", "groupb", "x1:groupb"]

    func validationFailure(_ text: String, terms: [String]? = nil, fixed: [String]? = nil) throws -> PriorError? {
        let specification = try PriorSpecification.parse(text)
        do {
            try specification.validate(terms: terms ?? self.terms, fixed: fixed ?? self.fixed)
            return nil
        } catch {
            return error
        }
    }

    @Test func namesThatExistAreValid() throws {
        for text in ["sd ~ half_t(3, 0, 2.5)", "sd(client) ~ half_cauchy(0, 1)", "sd(client:stylist) ~ exponential(1)",
                     "Intercept ~ normal(0, 5)", "b ~ normal(0, 1)", "b(x1) ~ normal(0, 2)",
                     "b(groupb) ~ normal(1, 0.5)", "b( x1 : groupb ) ~ normal(0, 1)"] {
            #expect(try validationFailure(text) == nil)
        }
        // The general priors are valid even when there is nothing to apply them to.
        #expect(try validationFailure("sd ~ half_t(3, 0, 1)", terms: [], fixed: []) == nil)
        #expect(try validationFailure("b ~ normal(0, 1)", terms: [], fixed: ["(Intercept)"]) == nil)
    }

    @Test func unknownTerm() throws {
        let error = try validationFailure("sd(stylst) ~ half_cauchy(0, 1)")
        #expect(error == PriorError(
            message: "the model has no random term 'stylst'; its random terms are client, stylist, client:stylist",
            column: 4, text: "sd(stylst) ~ half_cauchy(0, 1)"))
        let reordered = try validationFailure("sd(stylist : client) ~ half_cauchy(0, 1)")
        #expect(reordered?.message == "the model has no random term 'stylist:client' (did you mean sd(client:stylist)?); "
                + "its random terms are client, stylist, client:stylist")
        #expect(reordered?.column == 4)
        let none = try validationFailure("sd(client) ~ half_cauchy(0, 1)", terms: [])
        #expect(none?.message == "sd(client): the model has no random terms")
        let quoted = try validationFailure("sd(`my group`) ~ half_cauchy(0, 1)", terms: ["client", "other group"])
        #expect(quoted?.message == "the model has no random term 'my group'; its random terms are client, `other group`")
    }

    @Test func unknownCoefficient() throws {
        let error = try validationFailure("  b(x2) ~ normal(0, 1)")
        #expect(error == PriorError(message: "the model has no coefficient 'x2'; its coefficients are x1, groupb, x1:groupb",
                                    column: 5, text: "  b(x2) ~ normal(0, 1)"))
        let reordered = try validationFailure("b(groupb:x1) ~ normal(0, 1)")
        #expect(reordered?.message == "the model has no coefficient 'groupb:x1' (did you mean b(x1:groupb)?); "
                + "its coefficients are x1, groupb, x1:groupb")
        let none = try validationFailure("b(x) ~ normal(0, 1)", fixed: ["(Intercept)"])
        #expect(none?.message == "b(x): the model has no coefficients besides the intercept")
        let noIntercept = try validationFailure("Intercept ~ normal(0, 1)", fixed: ["x1"])
        #expect(noIntercept == PriorError(message: "the model has no intercept (its formula has '0 +' or '- 1')",
                                          column: 1, text: "Intercept ~ normal(0, 1)"))
    }

    @Test func buildingPriorsForAModel() throws {
        let result = try Priors(specifications: ["sd ~ half_cauchy(0, 1)", "sd(client) ~ exponential(1)",
                                                 "b(x1) ~ normal(0, 1)"], terms: terms, fixed: fixed)
        #expect(result.standardDeviations == .halfCauchy(scale: 1))
        #expect(result.standardDeviation == ["client": .exponential(rate: 1)])
        #expect(result.coefficient == ["x1": NormalPrior(mean: 0, standardDeviation: 1)])
        #expect(throws: PriorError(message: "the model has no coefficient 'x3'; its coefficients are x1, groupb, x1:groupb",
                                   column: 3, text: "b(x3) ~ normal(0, 1)")) {
            _ = try Priors(specifications: ["b(x1) ~ normal(0, 1)", "b(x3) ~ normal(0, 1)"], terms: terms, fixed: fixed)
        }
        #expect(throws: PriorError(message: "coefficients take normal", column: 5, text: "b ~ exponential(1)")) {
            _ = try Priors(specifications: ["b ~ exponential(1)"], terms: terms, fixed: fixed)
        }
    }

    @Test func validatingPriorsAlreadyBuilt() throws {
        try priors("sd(client) ~ half_cauchy(0, 1)", "b(groupb) ~ normal(0, 1)").validate(terms: terms, fixed: fixed)
        #expect(throws: PriorError(message: "prior for sd(clint): the model has no random term 'clint'; "
                                   + "its random terms are client, stylist, client:stylist")) {
            try priors("sd(stylist) ~ half_cauchy(0, 1)", "sd(clint) ~ half_cauchy(0, 1)", "b(zz) ~ normal(0, 1)")
                .validate(terms: terms, fixed: fixed)
        }
        #expect(throws: PriorError(message: "prior for b(zz): the model has no coefficient 'zz'; "
                                   + "its coefficients are x1, groupb, x1:groupb")) {
            try priors("b(zz) ~ normal(0, 1)", "b(x1) ~ normal(0, 1)").validate(terms: terms, fixed: fixed)
        }
    }

    // MARK: - Description

    @Test func describesThePriorsInEffect() throws {
        #expect(Priors().describe(terms: ["client"], fixed: ["(Intercept)", "x1"]) == [
            "Intercept  ~ normal(0, 2.5)     (default)",
            "b(x1)      ~ normal(0, 2.5)     (default)",
            "sd(client) ~ half_t(3, 0, 2.5)  (default)",
        ])
        let result = try priors("Intercept ~ normal(0, 5)", "b ~ normal(0, 1)", "b(x1) ~ normal(0, 2)",
                                "sd ~ half_cauchy(0, 1)", "sd(client:stylist) ~ inv_gamma(1, 0.5)")
        #expect(result.describe(terms: ["client", "client:stylist"], fixed: ["(Intercept)", "x1", "groupb"]) == [
            "Intercept          ~ normal(0, 5)",
            "b(x1)              ~ normal(0, 2)",
            "b(groupb)          ~ normal(0, 1)       (from b)",
            "sd(client)         ~ half_cauchy(0, 1)  (from sd)",
            "sd(client:stylist) ~ inv_gamma(1, 0.5)",
        ])
        #expect(Priors().describe(terms: [], fixed: []).isEmpty)
    }

    // MARK: - Scale prior densities

    /// ∫₀^∞ f(σ) dσ by the midpoint rule after σ = t/(1 − t), t ∈ (0, 1).
    func integral(_ f: (Double) -> Double, points: Int = 200_000) -> Double {
        let h = 1.0 / Double(points)
        var sum = 0.0
        for i in 0..<points {
            let t = (Double(i) + 0.5) * h
            let sigma = t / (1 - t)
            sum += f(sigma) / ((1 - t) * (1 - t))
        }
        return sum * h
    }

    @Test func halfTAgainstItsDensity() {
        let nu = 3.0, a = 2.5
        let prior = ScalePrior.halfT(degrees: nu, scale: a)
        // Normalised half-t density.
        func density(_ s: Double) -> Double {
            2 * tgamma((nu + 1) / 2) / (tgamma(nu / 2) * (nu * Double.pi).squareRoot() * a)
                * pow(1 + s * s / (nu * a * a), -(nu + 1) / 2)
        }
        // At σ = 1 the unnormalised log density is −(ν+1)/2 · log(1 + 1/(νA²)).
        #expect(abs(prior.logDensity(standardDeviation: 1) - (-2 * log(1 + 1 / 18.75))) < 1e-14)
        for (s1, s2) in [(1.0, 2.0), (0.1, 7.9), (0.5, 30.0)] {
            let difference = prior.logDensity(standardDeviation: s1) - prior.logDensity(standardDeviation: s2)
            #expect(abs(difference - log(density(s1) / density(s2))) < 1e-12)
        }
        // Normalised: ∫ exp(logDensity) = 1 / constant, the constant 4/(π√3 A) for ν = 3.
        let constant = 4 / (Double.pi * 3.0.squareRoot() * a)
        let total = integral { exp(prior.logDensity(standardDeviation: $0)) }
        #expect(abs(total * constant - 1) < 1e-6)
        // The median of half-t(3, 0, 2.5) is about 1.9, as documented.
        let below = integral { s in s < 1.9 ? density(s) : 0 }
        #expect(abs(below - 0.5) < 0.01)
    }

    @Test func inverseGammaIncludesTheJacobian() {
        let alpha = 2.0, beta = 1.5
        let prior = ScalePrior.inverseGamma(shape: alpha, scale: beta)
        // Density of σ when σ² ~ IG(α, β): 2σ · β^α/Γ(α) · (σ²)^(−α−1) e^(−β/σ²).
        func density(_ s: Double) -> Double {
            2 * s * pow(beta, alpha) / tgamma(alpha) * pow(s * s, -alpha - 1) * exp(-beta / (s * s))
        }
        // Density of the variance at σ², without the Jacobian.
        func varianceDensity(_ s: Double) -> Double {
            pow(beta, alpha) / tgamma(alpha) * pow(s * s, -alpha - 1) * exp(-beta / (s * s))
        }
        for (s1, s2) in [(0.5, 1.0), (1.0, 3.0), (0.3, 10.0)] {
            let difference = prior.logDensity(standardDeviation: s1) - prior.logDensity(standardDeviation: s2)
            #expect(abs(difference - log(density(s1) / density(s2))) < 1e-10)
            // Without the Jacobian the ratio would be off by σ1/σ2.
            #expect(abs(difference - log(varianceDensity(s1) / varianceDensity(s2)) - log(s1 / s2)) < 1e-10)
        }
        // ∫ σ (σ²)^(−α−1) e^(−β/σ²) dσ = Γ(α) / (2 β^α).
        let total = integral { exp(prior.logDensity(standardDeviation: $0)) }
        #expect(abs(total / (tgamma(alpha) / (2 * pow(beta, alpha))) - 1) < 1e-6)
        // IG(1, 0.5): the unnormalised density of σ integrates to exactly 1.
        let unit = integral { exp(ScalePrior.inverseGamma(shape: 1, scale: 0.5).logDensity(standardDeviation: $0)) }
        #expect(abs(unit - 1) < 1e-6)
    }

    @Test func otherScalePriorsIntegrateToTheirConstants() {
        let cauchy = integral { exp(ScalePrior.halfCauchy(scale: 2).logDensity(standardDeviation: $0)) }
        #expect(abs(cauchy / (Double.pi * 2 / 2) - 1) < 1e-6)
        let normal = integral { exp(ScalePrior.halfNormal(scale: 1.5).logDensity(standardDeviation: $0)) }
        #expect(abs(normal / (1.5 * (Double.pi / 2).squareRoot()) - 1) < 1e-6)
        let exponential = integral { exp(ScalePrior.exponential(rate: 0.5).logDensity(standardDeviation: $0)) }
        #expect(abs(exponential / 2 - 1) < 1e-6)
        let uniform = integral { exp(ScalePrior.uniform(upper: 10).logDensity(standardDeviation: $0)) }
        #expect(abs(uniform - 10) < 5e-3)
        let bounded = integral { exp(ScalePrior.uniform(lower: 0.5, upper: 3).logDensity(standardDeviation: $0)) }
        #expect(abs(bounded - 2.5) < 5e-3)
        // ∫ σ⁻¹ exp(−(log σ − μ)²/(2s²)) dσ = √(2π) s.
        let lognormal = integral { exp(ScalePrior.lognormal(mu: 0.5, sigma: 0.75).logDensity(standardDeviation: $0)) }
        #expect(abs(lognormal / ((2 * Double.pi).squareRoot() * 0.75) - 1) < 1e-6)
        // Half-Cauchy is half-t with one degree of freedom.
        let halfT1 = ScalePrior.halfT(degrees: 1, scale: 2), halfCauchy = ScalePrior.halfCauchy(scale: 2)
        for s in [0.1, 1.0, 5.0] {
            #expect(abs(halfT1.logDensity(standardDeviation: s) - halfCauchy.logDensity(standardDeviation: s)) < 1e-14)
        }
    }

    @Test func scalePriorSupport() {
        for prior in [ScalePrior.standard, .halfCauchy(scale: 1), .halfNormal(scale: 1),
                      .inverseGamma(shape: 1, scale: 1), .uniform(upper: 2), .exponential(rate: 1),
                      .lognormal(mu: 0, sigma: 1), .uniform(lower: 0.5, upper: 2)] {
            #expect(prior.logDensity(standardDeviation: 0) == -.infinity)
            #expect(prior.logDensity(standardDeviation: -1) == -.infinity)
            #expect(prior.logDensity(standardDeviation: 1).isFinite)
        }
        #expect(ScalePrior.uniform(upper: 2).logDensity(standardDeviation: 2) == -.infinity)
        #expect(ScalePrior.uniform(upper: 2).logDensity(standardDeviation: 1.999) == 0)
        #expect(ScalePrior.exponential(rate: 3).logDensity(standardDeviation: 2) == -6)
        let bounded = ScalePrior.uniform(lower: 0.5, upper: 2)
        #expect(bounded.logDensity(standardDeviation: 0.5) == -.infinity)
        #expect(bounded.logDensity(standardDeviation: 0.25) == -.infinity)
        #expect(bounded.logDensity(standardDeviation: 0.501) == 0)
        #expect(bounded.support == (0.5, 2))
        #expect(ScalePrior.lognormal(mu: 0, sigma: 1).support == (0, .infinity))
        // A start outside the support is moved 1% of its width inside.
        #expect(abs(bounded.clamped(0.1) - 0.515) < 1e-12)
        #expect(abs(bounded.clamped(7) - 1.985) < 1e-12)
        #expect(bounded.clamped(1.2) == 1.2)
        #expect(ScalePrior.exponential(rate: 1).clamped(7) == 7)
        #expect(ScalePrior.lognormal(mu: 2, sigma: 0.5).logDensity(standardDeviation: exp(2)) == -2)
        #expect(ScalePrior.halfNormal(scale: 2).logDensity(standardDeviation: 2) == -0.5)
    }
}
