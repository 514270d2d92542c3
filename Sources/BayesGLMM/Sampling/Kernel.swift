import Variates

/// A Markov kernel as a pair of pure functions (BlackJAX's and NumPyro's
/// shape): `initialState` makes a state, `step` maps a state and a generator
/// to the next state and per-step facts. Kernels hold no hidden state, never
/// print and never touch files; the driver owns I/O, progress and threads.
public protocol SamplingKernel: Sendable {
    associatedtype State: Sendable
    associatedtype Info: Sendable
    /// An overdispersed starting point for a chain.
    func initialState(using generator: Generator) -> State
    /// One sweep.
    func step(_ state: State, using generator: Generator) -> (State, Info)
    /// Names of the parameters `values(of:)` reports, in order.
    var parameterNames: [String] { get }
    /// The parameters of a state, in the order of `parameterNames`.
    func values(of state: State) -> [Double]
    /// The state to sample from once warm-up is over: an adaptive kernel
    /// freezes its tuning here, so that the sampling steps are one fixed
    /// Markov kernel leaving the posterior invariant (adaptation that never
    /// stops need not; Roberts & Rosenthal 2007). The driver calls it once
    /// per chain, between the last warm-up sweep and the first kept one.
    func endWarmup(_ state: State) -> State
    /// Named per-sweep rates in a step's `Info` (acceptance, say), which the
    /// driver averages over each chain's sampling sweeps.
    func rates(of info: Info) -> [String: Double]
    /// What failed in a step, if anything did (a factorisation that is not
    /// positive definite, say), in the model's words; the driver stops the
    /// chain there. Values that are not finite the driver finds itself.
    func failure(of info: Info) -> String?
}

extension SamplingKernel {
    /// A kernel that does not adapt has nothing to freeze.
    public func endWarmup(_ state: State) -> State { state }
    /// No rates unless a kernel reports some.
    public func rates(of info: Info) -> [String: Double] { [:] }
    /// No failures unless a kernel reports some.
    public func failure(of info: Info) -> String? { nil }
}

extension Design {
    /// The parameters every kernel over this design reports, in order: the
    /// fixed effects, each term's standard deviations and correlations
    /// (`RandomEffect.covarianceNames`), then each term's level effects
    /// (`RandomEffect.effectNames`) — what fit, summary and compare read
    /// whichever kernel ran. For random intercepts alone: `sd(term)` per
    /// term, then `r(term)[level]` per term and level.
    public var parameterNames: [String] {
        fixedNames + randomTerms.flatMap(\.covarianceNames) + randomTerms.flatMap(\.effectNames)
    }
}

extension RandomEffect {
    /// q, the number of the term's columns: 1 for a random intercept, 2 for
    /// `(1 + x | g)`.
    public var dimension: Int { columns.count }

    /// Whether the term is a random intercept alone, `(1 | g)`.
    public var isInterceptOnly: Bool { values.isEmpty }

    /// The value of column j at cell i (1 for a random intercept).
    @inline(__always)
    func value(cell i: Int, column j: Int) -> Double {
        values.isEmpty ? 1 : values[i * columns.count + j]
    }

    /// The names of the term's standard deviations and correlations
    /// (`ParameterNaming.covariance`).
    public var covarianceNames: [String] { ParameterNaming.covariance(term: name, columns: columns) }

    /// The names of the term's level effects (`ParameterNaming.effects`).
    public var effectNames: [String] { ParameterNaming.effects(term: name, levels: levels, columns: columns) }
}

/// How a random term's parameters are named, in a design and in a run
/// directory alike.
public enum ParameterNaming {
    /// `sd(g)` for a random intercept alone (columns `(Intercept)`);
    /// otherwise `sd(g)[c]` for each column c, then `cor(g)[c1][c2]` for each
    /// pair, row by row of the upper triangle (brms's order: (1,2), (1,3),
    /// …, (2,3), …) — so that `(x || g)`, two terms on g, reads `sd(g)` and
    /// `sd(g)[x]`. Two indices are written `[a][b]`, not `[a,b]`: the names
    /// head CmdStan CSV columns, which readers (ArviZ's among them) split
    /// at every comma.
    public static func covariance(term: String, columns: [String]) -> [String] {
        if columns == ["(Intercept)"] { return ["sd(\(term))"] }
        let q = columns.count
        var names = columns.map { "sd(\(term))[\($0)]" }
        for a in 0..<q { for b in (a + 1)..<q { names.append("cor(\(term))[\(columns[a])][\(columns[b])]") } }
        return names
    }

    /// `r(g)[level]` for a random intercept alone; otherwise
    /// `r(g)[level][c]` per level and, within a level, per column (lme4's
    /// order of u).
    public static func effects(term: String, levels: [String], columns: [String]) -> [String] {
        if columns == ["(Intercept)"] { return levels.map { "r(\(term))[\($0)]" } }
        return levels.flatMap { level in columns.map { "r(\(term))[\(level)][\($0)]" } }
    }

    /// Whether `name` is a standard deviation or a correlation.
    public static func isCovariance(_ name: String) -> Bool { name.hasPrefix("sd(") || name.hasPrefix("cor(") }
}

extension Design {
    /// Whether some random term has a column besides the intercept.
    public var hasSlopes: Bool { randomTerms.contains { !$0.isInterceptOnly } }
}
