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
}
