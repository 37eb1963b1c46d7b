"""Cohort evaluation statistics: item analysis of the completion test and quizzes (Moodle's
definitions), reliability, inter-rater agreement for rubric grading, pre/post learning gain, and
small-cell suppression for published tables.

Every function names the convention it follows in its docstring, because these are the choices
that make otherwise-correct code disagree with published values:

- variances are sample variances (ddof = 1) unless a docstring says otherwise, and reliability
  coefficients always use the same ddof for item and total variances (so it cancels);
- missing marks: `item_analysis` scores a missing mark as 0 (as Moodle scores an unanswered
  question in a submitted attempt); `cronbach_alpha`, `alpha_if_deleted` and `kr20` use listwise
  deletion (a trainee with any missing mark is left out);
- weighted kappa scores ordinal categories by their declared level values, never by the rank of
  the levels that happen to be used;
- paired statistics use the sign convention post - pre (a gain is positive).

Inputs may be pandas objects or plain array-likes. Errors a user can cause (a non-numeric column,
a mark above the item maximum, a missing rating where complete data is needed, ...) raise
`coordkit.errors.DatasetError` naming the column or row and the fix; an invalid option value
(e.g. ``weights="squared"``) raises ``ValueError``. scipy is imported only inside the functions
that need it.

The package owns these statistics and nothing else: `items` (item analysis, reliability),
`agreement` (kappa, ICC and their confidence intervals), `change` (gain, effect size, t-test,
Wilcoxon) and `privacy` (small-cell suppression). It may import numpy, pandas, scipy and
`coordkit.errors` only: no cohort tables, no settings, so every function can be checked against
published values on its own. The old path ``coordkit.evaluation`` is this package.
"""

from .agreement import ICCResult, KappaResult, cohen_kappa, fleiss_kappa, icc, icc_ci, kappa_ci
from .change import (NormalizedGain, PairedTTest, WilcoxonResult, normalized_gain, paired_effect_size, paired_ttest,
                     wilcoxon_signed_rank)
from .items import ItemAnalysis, ItemFlagRules, QuizStatistics, alpha_if_deleted, cronbach_alpha, item_analysis, kr20
from .privacy import suppress_small_cells

__all__ = [
    "ItemFlagRules", "ItemAnalysis", "QuizStatistics", "item_analysis",
    "cronbach_alpha", "alpha_if_deleted", "kr20",
    "KappaResult", "cohen_kappa", "fleiss_kappa", "ICCResult", "icc", "icc_ci", "kappa_ci",
    "NormalizedGain", "normalized_gain", "paired_effect_size", "PairedTTest", "paired_ttest",
    "WilcoxonResult", "wilcoxon_signed_rank", "suppress_small_cells",
]
