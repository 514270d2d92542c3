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
    /// fixed effects, `sd(term)` per term, then `r(term)[level]` per term and
    /// level — what fit, summary and compare read whichever kernel ran.
    var parameterNames: [String] {
        fixedNames + randomTerms.map { "sd(\($0.name))" }
            + randomTerms.flatMap { term in term.levels.map { "r(\(term.name))[\($0)]" } }
    }
}
