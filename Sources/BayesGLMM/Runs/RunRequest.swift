import Foundation

/// Everything a fit needs, in the library's terms: the model (design,
/// priors, link), the sampler, how long and from which seed, where chains
/// start, which parameters the chain files keep, and where the run goes.
/// `Run.prepare` checks it whole before anything is written.
public struct RunRequest: Sendable {
    /// The samplers.
    public enum Sampler: String, Sendable, CaseIterable, Codable {
        /// The Gibbs sampler over a data augmentation: Pólya–Gamma for the
        /// logit, Albert–Chib for the probit (`PolyaGammaGibbs`).
        case gibbs
        /// Adaptive random-walk Metropolis-within-Gibbs on the exact
        /// likelihood, any link (`MetropolisWithinGibbs`).
        case metropolis
    }

    /// Where chains start (`InitialValues`).
    public enum Start: String, Sendable, CaseIterable {
        /// Around an empirical-Bayes fit of the model.
        case empiricalBayes = "eb"
        /// From the prior's draws.
        case prior
    }

    /// Groups of parameters the chain files keep (the draw store keeps all).
    public enum Saved: String, Sendable, CaseIterable {
        /// The intercept and coefficients.
        case fixed
        /// The standard deviations (and the correlations of terms with slopes).
        case sd
        /// The effects of single-factor terms.
        case effects
        /// The effects of interaction terms like client:stylist.
        case interactions
        /// Every parameter.
        case all
    }

    public var design: Design
    public var priors: Priors
    public var link: Link
    /// Nil: Gibbs where the link has an augmentation, else Metropolis.
    public var sampler: Sampler?
    /// The Gibbs sampler's updates; nil: `Updates.automatic` from the
    /// overall success rate.
    public var updates: Updates?
    public var settings: ChainSettings
    public var saved: Set<Saved>
    /// Nil: around the EB fit for the logit link, falling back to the prior
    /// when the EB fit fails; from the prior for other links. Given, a
    /// failure of the EB fit stops the run.
    public var start: Start?
    /// The run directory to write.
    public var output: String
    /// Replace a run already in `output` (only once the new run is complete).
    public var replacesExisting: Bool
    /// Sample in blocks until the slowest monitored parameter has the
    /// bulk-ESS asked for and R-hat ≤ 1.01, or a limit is reached
    /// (`UntilESS`); `settings.draws` is then the first block. Nil: exactly
    /// `settings.draws` draws per chain.
    public var untilESS: UntilESS?
    /// The pointwise log-likelihood the chain files add after the saved
    /// parameters, as `log_lik.i` columns (`LogLikelihoodColumns`): per
    /// binomial cell or per row; nil: none.
    public var logLikelihood: PointwiseLogLikelihood.Unit?

    public init(design: Design, priors: Priors = Priors(), link: Link = .logit, sampler: Sampler? = nil,
                settings: ChainSettings = ChainSettings(), saved: Set<Saved> = [.fixed, .sd],
                start: Start? = nil, output: String, replacesExisting: Bool = false, untilESS: UntilESS? = nil,
                updates: Updates? = nil, logLikelihood: PointwiseLogLikelihood.Unit? = nil) {
        self.design = design
        self.priors = priors
        self.link = link
        self.sampler = sampler
        self.settings = settings
        self.saved = saved
        self.start = start
        self.output = output
        self.replacesExisting = replacesExisting
        self.untilESS = untilESS
        self.updates = updates
        self.logLikelihood = logLikelihood
    }

    /// Kept draws per chain the draw store has room for: `settings.draws`,
    /// or the draw limit of an `untilESS` run.
    public var storedDraws: Int { untilESS?.drawLimit(firstBlock: settings.draws) ?? settings.draws }

    /// The sampler that runs: the one asked for, or Gibbs wherever the link
    /// has an augmentation (logit, probit) and Metropolis otherwise.
    public var resolvedSampler: Sampler {
        sampler ?? (PolyaGammaGibbs.Augmentation(link: link) != nil ? .gibbs : .metropolis)
    }

    /// The parameters every kernel over the design reports, in order.
    public var parameterNames: [String] { design.parameterNames }

    /// The indices into `parameterNames` the chain files keep.
    public var savedIndices: [Int] {
        let names = parameterNames
        let interactionTerms = Set(design.randomTerms.filter { $0.factors.count > 1 }.map(\.name))
        return names.indices.filter { i in
            let name = names[i]
            if saved.contains(.all) { return true }
            if ParameterNaming.isCovariance(name) { return saved.contains(.sd) }
            if name.hasPrefix("r(") {
                let term = String(name.dropFirst(2).prefix { $0 != ")" })
                return saved.contains(interactionTerms.contains(term) ? .interactions : .effects)
            }
            return saved.contains(.fixed)
        }
    }

    /// A sentence on the sampler, for the manifest and the chain files.
    var samplerDescription: String {
        switch (resolvedSampler, link) {
        case (.metropolis, _) where design.hasSlopes:
            "adaptive random-walk Metropolis-within-Gibbs for random slopes (exact likelihood; each covariance in "
                + "log-SD and partial-correlation coordinates, centred and non-centred; scales adapted in warm-up, "
                + "then frozen)"
        case (.metropolis, _):
            "adaptive random-walk Metropolis-within-Gibbs (exact likelihood; scales adapted in warm-up, then frozen)"
        case (.gibbs, _) where design.hasSlopes:
            (link == .probit ? "Albert–Chib" : "Pólya–Gamma")
                + " Gibbs for random slopes (collapsed fixed effects; Huang–Wand covariances, centred and "
                + "non-centred)"
        case (.gibbs, _) where resolvedUpdates == .exact:
            "Gibbs with exact-likelihood moves (Newton-proposal Metropolis–Hastings for the effects and fixed effects, "
                + "centring, partially non-centred slice steps for the SDs; no augmentation)"
        case (.gibbs, _) where resolvedUpdates == .calibrated:
            "Pólya–Gamma Gibbs (collapsed fixed effects and SDs, interweaving) with a calibrated-augmentation "
                + "Metropolis–Hastings update of the fixed effects (Duan, Johndrow & Dunson 2018)"
        case (.gibbs, .probit):
            "Albert–Chib Gibbs (truncated-normal augmentation; collapsed fixed effects and SDs, interweaving)"
        case (.gibbs, _):
            "Pólya–Gamma Gibbs (collapsed fixed effects and SDs, interweaving)"
        }
    }

    /// The Gibbs sampler's updates: those asked for, or the automatic
    /// choice for the data (nil for the Metropolis sampler).
    public var resolvedUpdates: Updates? {
        guard resolvedSampler == .gibbs, let augmentation = PolyaGammaGibbs.Augmentation(link: link) else { return nil }
        if design.hasSlopes { return updates ?? .augmented }
        return updates ?? Updates.automatic(for: design, augmentation: augmentation)
    }

    /// The first comment of each chain file, CmdStan's place for the program.
    var programLine: String {
        "BayesGLMM \(Release.version): " + (resolvedSampler == .metropolis
            ? "Metropolis-within-Gibbs sampler, link = \(link.rawValue)"
            : link == .probit ? "Albert–Chib Gibbs sampler, link = probit" : "Pólya–Gamma Gibbs sampler")
    }
}
