namespace Qmmm.Numerics

/// Everything that defines a defect relaxation problem (the issue's `qmmm relax` options, in Å).
type DefectSpec =
    {
        /// The crystal.
        Crystal: Crystal
        /// The defect.
        Defect: DefectKind
        /// Quasi-2D disc or 3-D ball.
        Shape: DomainShape
        /// Cubic lattice constant a (Å).
        A: float
        /// R_MM (Å): free atoms |x − x̂| <= R_MM.
        RMM: float
        /// R_FF (Å): width of the clamped far-field shell.
        RFF: float
        /// The far-field predictor (ignored for point defects).
        Predictor: PredictorKind
        /// Core smoothing radius r̂ of (A.4) (Å); None: |b| (`Predictor.defaultSmoothing`).
        Smoothing: float option
    }

/// A set-up defect problem: the domain, its regions and the predicted configuration y0 = x0 + u0.
type DefectProblem =
    {
        /// The specification it was built from.
        Spec: DefectSpec
        /// Reference sites x0, core, Burgers vector.
        Domain: DefectDomain
        /// Free atoms and far-field shell.
        Regions: Regions
        /// u0 at every site (3 per atom, Å).
        U0: float[]
        /// y0 = x0 + u0.
        Predicted: Configuration
    }

/// Set-up of defect problems.
[<RequireQualifiedAccess>]
module DefectProblem =

    /// Builds the domain of radius RMM + RFF around x̂, its regions and the predictor.
    let create (spec: DefectSpec) : DefectProblem =
        Validate.positive "spec.RMM" spec.RMM
        Validate.nonNegative "spec.RFF" spec.RFF

        let domain =
            DefectGeometry.create spec.Crystal spec.Defect spec.Shape spec.A (spec.RMM + spec.RFF)

        let regions = Regions.create domain spec.RMM spec.RFF

        let rhat =
            spec.Smoothing
            |> Option.defaultWith (fun () -> Predictor.defaultSmoothing domain)

        let u0 = Predictor.displacements spec.Predictor rhat domain

        { Spec = spec
          Domain = domain
          Regions = regions
          U0 = u0
          Predicted =
            { domain.Reference with
                Positions = Array.map2 (+) domain.Reference.Positions u0 } }

    /// The perfect-crystal problem with the same regions (same radii, core at the origin site, no predictor): the
    /// E_perf of the vacancy formation energy.
    let perfect (spec: DefectSpec) : DefectProblem =
        create
            { spec with
                Defect = DefectKind.NoDefect
                Predictor = PredictorKind.NoPredictor }
