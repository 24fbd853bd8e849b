"""The deployment checklist: practices for a frontier model behind a restricted API.

Adapted, in our own words, from the Partnership on AI's guidance for safe
foundation model deployment (frontier model × restricted API and hosted
access), grouped as that guidance groups them. Each practice has the
baseline a company is expected to meet and what the guidance recommends
beyond it. The liaison answers each practice on the case; the case manager
sees the summary and the gaps.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Practice:
    key: str
    title: str
    aim: str
    baseline: tuple[str, ...]
    recommended: tuple[str, ...]


@dataclass(frozen=True)
class PracticeGroup:
    key: str
    title: str
    practices: tuple[Practice, ...]


P = Practice

GROUPS: tuple[PracticeGroup, ...] = (
    PracticeGroup(
        "research",
        "Research and development",
        (
            P(
                "novel_risks",
                "Scan for novel or emerging risks",
                "Look for new kinds of risk the model may bring before they surface in use.",
                (
                    "Evaluations and experiments that look for signs of new risks: societal "
                    "harms, malicious use, dangerous capabilities such as persuasion.",
                    "A standing process, such as external red-teaming, to probe for them.",
                ),
                (
                    "Work with governments, other labs and researchers on finding and disclosing "
                    "novel risks.",
                ),
            ),
            P(
                "responsible_iteration",
                "Iterate responsibly",
                "Grow capability and exposure step by step, testing at each step.",
                (
                    "Forecast capabilities and outcomes before training.",
                    "Start small, test each internal iteration, fix what is found, update the "
                    "forecast.",
                    "Release first to limited, experimental settings and adapt the rollout to "
                    "what is learned.",
                ),
                (
                    "Keep a record of each iteration: lessons, problems, mitigations.",
                    "Share it with government as required and ask affected users and experts "
                    "for feedback.",
                ),
            ),
            P(
                "upstream_security",
                "Assess upstream security vulnerabilities",
                "Keep the weights and the model from being leaked or manipulated.",
                (
                    "Cybersecurity standards in place from the start of development.",
                    "Penetration tests, prompt analysis and data-poisoning checks.",
                    "A protocol to fix what is found before deployment.",
                ),
                (
                    "Go beyond the baseline as risks evolve; run a bug bounty.",
                    "Share lessons with industry and ship security patches regularly.",
                ),
            ),
            P(
                "pre_systems_card",
                "Publish a pre-systems card",
                "Say before development how the model will be tested and its risks managed.",
                (
                    "A card written before research starts: training-data approach, testing, "
                    "safety evaluations, responsible-AI practices, team.",
                    "Kept up to date during development and filed with regulators where required.",
                ),
                (
                    "A written safety case for developing the model, reviewed by independent "
                    "experts.",
                ),
            ),
            P(
                "risk_governance",
                "Set up risk management and responsible-AI oversight",
                "Have people and processes that can say when a model should not ship.",
                (
                    "Risk management structures such as a safety board or ethics review that "
                    "set rules for release and staged rollout, including when not to release.",
                    "Policies reviewed as capabilities and real-world impacts change.",
                ),
                ("Publish how internal governance and risk management work.",),
            ),
        ),
    ),
    PracticeGroup(
        "pre_deployment",
        "Pre-deployment",
        (
            P(
                "internal_evaluation",
                "Evaluate the model internally for safety",
                "Measure and reduce societal risks and misuse before release.",
                (
                    "Evaluation policies covering fairness, interpretability, harmful output, "
                    "novel risks, and intended and foreseeable unintended uses.",
                    "Bias in training data looked for and reduced; unsafe behaviour trained down.",
                    "Cross-disciplinary review; results, limits and fixes documented.",
                ),
                ("Help industry, civil society and academia standardize evaluations.",),
            ),
            P(
                "external_evaluation",
                "Have the model evaluated externally",
                "Let independent researchers test the model before release.",
                (
                    "Controlled access for external evaluators, with enough time and compute.",
                    "Independent audits; safeguards against leaks through evaluators.",
                    "Deployment plans adapted to what the evaluations found, and documented.",
                ),
                (
                    "Diverse external methods such as panels and focus groups; domain-specific "
                    "audit methods.",
                ),
            ),
            P(
                "red_teaming",
                "Red-team the model and share what is found",
                "Probe for misuse and harm before release and disclose responsibly.",
                (
                    "Internal and external red-teaming across capabilities, uses and harms, "
                    "including dual-use risks, throughout development.",
                    "Independent red-teamers, such as domain experts and affected users.",
                    "Findings addressed, deployment adapted, results disclosed responsibly.",
                ),
                ("Help advance red-teaming methods and responsible disclosure.",),
            ),
            P(
                "public_reporting",
                "Report the model's impacts and key ingredients",
                "Be open about what went into the model, how it was tested and its limits.",
                (
                    "Publish compute, parameters, architecture, training-data approach and "
                    "documentation, unless disclosure itself would cause harm.",
                    "Disclose benchmarks, intended and foreseeable uses, risks, limitations, "
                    "evaluation methods and results.",
                ),
                ("Follow model card and system card practice; widen disclosure over time.",),
            ),
            P(
                "downstream_documentation",
                "Document the model for downstream developers",
                "Give those who build on the model what they need to build safely.",
                (
                    "Clear documentation of appropriate uses, limits, mitigations and safe "
                    "development practice, to industry standards.",
                ),
                (
                    "Develop documentation standards with developers and civil society, e.g. safe "
                    "development checklists.",
                ),
            ),
            P(
                "usage_safeguards",
                "Safeguard against unsafe use",
                "Restrict unsafe uses with organizational, procedural and technical controls.",
                (
                    "Safety features in the model, its interfaces and integrations.",
                    "Published terms of use that forbid harmful uses and say how they are "
                    "enforced.",
                    "Identity or eligibility checks, rate limits and content filtering.",
                    "Controls re-evaluated regularly, including against jailbreaks.",
                ),
                (
                    "Share emerging threats with industry; be transparent about safeguards; make "
                    "sure users understand the terms.",
                ),
            ),
        ),
    ),
    PracticeGroup(
        "post_deployment",
        "Post-deployment",
        (
            P(
                "monitoring",
                "Monitor the deployed model",
                "Find issues, misuse and societal impacts after release.",
                (
                    "Ongoing monitoring of performance, fairness, unintended uses, misuse and "
                    "risks from combining the model with others.",
                    "A response process, including telling partners of significant incidents "
                    "and restricting or retiring the model.",
                ),
                (
                    "Be transparent about monitoring while protecting privacy; study real-world "
                    "impact with external researchers.",
                ),
            ),
            P(
                "incident_reporting",
                "Report incidents",
                "Report safety incidents promptly so everyone learns from them.",
                (
                    "Secure channels for outsiders and staff to report incidents and concerns.",
                    "Regulators and partners notified of critical incidents on set criteria.",
                ),
                (
                    "Seek feedback on the reporting process; contribute anonymized data to shared "
                    "incident trackers.",
                ),
            ),
            P(
                "decommissioning",
                "Have a decommissioning policy",
                "Retire the model on clear criteria.",
                ("Criteria and procedures for when to restrict, suspend or retire the model.",),
                ("Keep watching retired models for downstream impact and leaks.",),
            ),
            P(
                "transparency_reporting",
                "Report transparently on use and violations",
                "Disclose how the model is used and how policies are broken.",
                ("Take part in shared work on transparency reporting standards.",),
                (
                    "Publish periodic transparency reports with aggregated usage and violation "
                    "data, protecting privacy.",
                ),
            ),
        ),
    ),
    PracticeGroup(
        "societal_impact",
        "Societal impact",
        (
            P(
                "third_party_inspection",
                "Support third-party inspection of models and data",
                "Make independent auditing of the model and its data possible.",
                (
                    "Enough transparency into models and datasets for academics and civil society "
                    "to assess them; help build domain-specific audit methods.",
                ),
                (),
            ),
            P(
                "responsible_labor",
                "Source labor responsibly, including data enrichment",
                "Treat annotators and other data workers fairly.",
                (
                    "Pay data-enrichment workers above their local living wage.",
                    "Clear, tested instructions; workers may opt out of tasks and report problems.",
                ),
                (
                    "Pilot enrichment projects; disclose new kinds of labor such as red-teamers; "
                    "survey workers.",
                ),
            ),
            P(
                "human_rights",
                "Do human rights due diligence",
                "Assess and address the model's impact on human rights.",
                (
                    "Human rights impact assessments before deployment, following recognized "
                    "principles, with attention to vulnerable communities.",
                    "Due diligence improved with community feedback.",
                ),
                ("Publish the risks found, the method and the measures taken.",),
            ),
            P(
                "feedback_channels",
                "Open feedback channels across the value chain",
                "Hear from those the model affects.",
                ("Clear feedback channels for developers, consumers and other direct users.",),
                (
                    "Gather input from indirectly affected people and feed it into development "
                    "and policy.",
                ),
            ),
            P(
                "environmental_impact",
                "Measure and disclose environmental impact",
                "Know and report what developing and running the model costs the environment.",
                (
                    "Measure energy use, emissions and related metrics of development and "
                    "deployment, and report them.",
                ),
                (
                    "Give developers building on the model ways to measure theirs; weigh impact "
                    "in development decisions.",
                ),
            ),
            P(
                "synthetic_content",
                "Disclose synthetic content",
                "Let people tell synthetic media from real.",
                (
                    "Direct and embedded disclosure for synthetic media, with the choice of "
                    "method assessed and explained.",
                ),
                ("Work toward interoperable standards for identifying synthetic content.",),
            ),
            P(
                "labor_market_risks",
                "Measure and disclose severe labor market risks",
                "Assess whether deployment could seriously disrupt jobs, and say so.",
                (
                    "Thresholds for disclosure set with experts and affected communities; "
                    "assessments run and their method shared.",
                ),
                (
                    "Work with worker organizations and others on measuring and mitigating these "
                    "risks.",
                ),
            ),
        ),
    ),
)

PRACTICES: dict[str, Practice] = {p.key: p for g in GROUPS for p in g.practices}
