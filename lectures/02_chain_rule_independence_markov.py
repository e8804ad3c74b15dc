# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lecture 2 — Chain rule, independence, Markov: finding the sweet spot
#
# **What you will learn**
#
# * the chain rule writes *any* distribution as a product of conditionals, exactly, and so
#   costs exactly as much as the full table: $2^n - 1$;
# * conditional independence and the Markov assumption ($2n - 1$ parameters), and AR($k$)
#   models in between; and how to **measure** on real digits whether a conditional
#   independence holds (it holds approximately for some pixels, and fails for others);
# * on real data small enough to enumerate (4×4 patches of digits, $2^{16}$ states), how the
#   full table **overfits**, independence **underfits**, and a short-memory AR model wins,
#   once every model's smoothing constant is chosen on validation data;
# * that the **ordering** of the variables changes what an AR model can learn, measured;
# * that the chain rule over a sequence of tokens is a **language model**: AR($k$) over
#   characters (an $n$-gram model) fitted to this course's own prose, its held-out bits per
#   character falling with $k$ and then rising, its samples, and what today's large language
#   models change;
# * the bridge to neural models: the **FVSBN**, a logistic autoregressive model of whole 28×28
#   digits, whose test NLL we compare with Larochelle & Murray's 97.45 nats;
# * and you will **implement the autoregressive sampler** yourself, then run it on the FVSBN.
#
# **Study time:** about 85 minutes of reading and 35 minutes of exercises.

# %% tags=["colab-setup"]
# On Google Colab this cell installs the course's package (gm_helpers) and downloads the data;
# anywhere else (JupyterLab, Binder) it does nothing. Run it first.
import sys

if "google.colab" in sys.modules:
    raise RuntimeError(
        "This copy of the course was not published with its repository's address, so it cannot "
        "install itself on Colab. Run it on your own machine (the course's README says how), or "
        "ask your instructor for the course's GitHub address, install the package from it with "
        "`%pip install \"gm_helpers @ git+<that address>\"` and run the notebook from the next "
        "cell. (Maintainers: set `repository` in course.toml and run "
        "`python -m gm_helpers.course colab-cell --write`.)")

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.analysis.counting import ALPHAS, choose_alpha, compare_tabular_models
from gm_helpers.analysis.independence import (
    conditional_mutual_information,
    conditional_table,
    shuffle_within,
)
from gm_helpers.analysis.timing import cpu_time, one_thread
from gm_helpers.data import binary_patches, load_binarized_mnist, load_course_prose
from gm_helpers.exercises.autoregressive import (
    check_ar_params,
    check_ar_sampler,
    check_conditional_from_joint,
    check_markov_log_prob,
    reference_ar_sample,
)
from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.ngram import CharAR
from gm_helpers.models.tabular import (
    FullJointTable,
    TabularAR,
    all_binary_states,
    image_ordering,
    num_params,
)
from gm_helpers.training.checkpoint import load_shipped, shipped_manifest
from gm_helpers.training.loop import evaluate_nll, fit, get_device, seed_everything
from gm_helpers.viz import plot_checkpoint_curves, plot_params_vs_nll, show_images
from gm_helpers.widgets.autoregressive import (
    ar_patch_experiment,
    ar_patch_explorer,
    draw_patch_result,
)

seed_everything(0)
device = get_device()

# %% [markdown]
# ## 1. The chain rule: exact, and no cheaper
#
# For any distribution over $x = (x_1, \dots, x_n)$, by the definition of conditional probability,
#
# $$p(x_1, \dots, x_n) = p(x_1)\, p(x_2 \mid x_1)\, p(x_3 \mid x_1, x_2) \cdots p(x_n \mid x_1, \dots, x_{n-1}) = \prod_{i=1}^n p(x_i \mid x_{<i}).$$
#
# No assumption has been made. Written as tables, the conditional of binary $x_i$ needs one
# number for each of the $2^{i-1}$ settings of its parents $x_{<i}$, so the total is
#
# $$\sum_{i=1}^n 2^{i-1} = 2^n - 1,$$
#
# exactly the count of the full joint table. We check that for every $n$ up to 784, in exact
# integer arithmetic:

# %%
chain_rule_counts = [sum(2 ** (i - 1) for i in range(1, n + 1)) for n in range(1, 785)]
same = all(c == num_params("full_joint", n) for n, c in enumerate(chain_rule_counts, 1))
print("sum_i 2**(i-1) == 2**n - 1 for n = 1..784:", same)

# %% jupyter={"source_hidden": true} tags=["claim-02-chain-rule-count", "hide-input"]
assert same

# %% [markdown]
# The chain rule is the *skeleton* of every autoregressive model in this course; what varies is
# how each conditional $p(x_i \mid x_{<i})$ is written down.
#
# ## 2. Data we can enumerate: 4×4 patches
#
# To compare models exactly we need a space small enough to list every state. We cut random
# 4×4 patches out of the binarized digits (from the central region, where the strokes are):
# $n = 16$ binary variables, $2^{16} = 65{,}536$ states. We fit on 5,000 patches from the
# **training** digits, choose the one setting each model has (its smoothing, below) on 20,000
# patches from the **validation** digits, and report the NLL on 20,000 patches from the
# **test** digits, which nothing else looks at.

# %% mystnb={"figure": {"caption": "48 of the 5,000 binary 4\u00d74 training patches cut from the digits: small pieces of strokes, edges and blank space, few enough pixels ($2^{16}$ states) to list every state.", "name": "fig-02-patches"}, "image": {"alt": "Three rows of sixteen small black-and-white 4 by 4 pixel squares; some are all black, some all white, and most show a piece of a white stroke or an edge."}}
x_train = load_binarized_mnist("train")                  # (50000, 1, 28, 28)
x_valid = load_binarized_mnist("valid")                  # (10000, 1, 28, 28)
x_test = load_binarized_mnist("test")                    # (10000, 1, 28, 28)
size = 4
train = binary_patches(x_train, size, 5_000, seed=0).numpy()    # (5000, 16) uint8
valid = binary_patches(x_valid, size, 20_000, seed=2).numpy()   # (20000, 16): to choose alpha
test = binary_patches(x_test, size, 20_000, seed=1).numpy()     # (20000, 16): to report
print("train", train.shape, " valid", valid.shape, " test", test.shape,
      " states:", 2 ** train.shape[1])
as_int = lambda p: p.astype(np.int64) @ (1 << np.arange(15, -1, -1))   # patch -> 16-bit number
seen = np.isin(np.arange(2 ** 16), as_int(train))        # (65536,) True for states seen in train
unseen_valid, unseen_test = (~seen[as_int(valid)]).mean(), (~seen[as_int(test)]).mean()
print(f"distinct patches in train: {seen.sum()}; patches whose exact state never occurs in "
      f"train: {unseen_valid:.1%} of valid, {unseen_test:.1%} of test")
show_images(train[:48], nrow=16, title="48 training patches (4x4)")
plt.show()

# %% [markdown]
# ### The full joint table, smoothing, and the chain rule read off it
#
# Maximum likelihood for a table is counting (Lecture 1): the estimate is the count ratio
# $\hat p(s) = \text{count}(s)/N$. That gives probability **zero** to every state the 5,000
# training patches happen to miss, and about one test patch in six is such a state, so its
# test NLL is infinite. The usual repair is **additive smoothing**: pretend every one of the
# $2^n$ states was seen $\alpha$ extra times ($\alpha$ *pseudo-counts*),
#
# $$\hat p_\alpha(s) = \frac{\text{count}(s) + \alpha}{N + 2^n \alpha}
#   = (1 - w)\,\frac{\text{count}(s)}{N} + w\,\frac{1}{2^n},
#   \qquad w = \frac{2^n \alpha}{N + 2^n \alpha}.$$
#
# It is no longer the maximum-likelihood estimate: it is a **mixture** of the ML table and the
# uniform distribution, with weight $w$ on the uniform (it is also the posterior mean under a
# symmetric Dirichlet($\alpha$) prior). $\alpha$ is a **hyperparameter**: too small and unseen
# patches are nearly impossible, too large and the table flattens towards uniform. Section 3
# chooses it on the validation patches, for every model; here any $\alpha > 0$ makes the
# point, and we use $\alpha = 0.01$.
#
# From the table we can compute every conditional $p(x_i \mid x_{<i})$ by summing out the
# later variables and dividing. Multiplying them back together must give the table again,
# exactly: the chain rule in code.

# %%
states = all_binary_states(16)                            # (65536, 16)
ml = FullJointTable(alpha=0.0).fit(train)                 # maximum likelihood: count(s) / N
ml_logp = ml.log_prob(test)                               # (20000,): -inf where count(s) = 0
print(f"ML table (alpha = 0): test NLL = {-ml_logp.mean()}, because "
      f"{np.isinf(ml_logp).mean():.1%} of test patches get probability 0")

full = FullJointTable(alpha=0.01).fit(train)
total = float(np.exp(full.log_prob(states)).sum())
print("smoothed table (alpha = 0.01), sum over all 65,536 states:", round(total, 12))
chain = TabularAR(k=15).fit(train)                        # shape only; we overwrite its tables
chain.theta = full.conditionals()                         # p(x_i = 1 | x_<i) from the table
gap = np.abs(chain.log_prob(states) - full.log_prob(states)).max()
print(f"max |log p_chain(x) - log p_table(x)| over all states: {gap:.1e}")
print("parameters of the chain-rule factorisation:",
      sum(len(t) for t in chain.theta), "=", full.num_params())

# %% jupyter={"source_hidden": true} tags=["claim-02-ml-table-infinite-nll", "claim-02-chain-rule-exact", "hide-input"]
assert np.isinf(-ml_logp.mean()) and np.isinf(ml_logp).mean() == unseen_test
assert abs(total - 1) < 1e-12 and gap < 1e-10
assert sum(len(t) for t in chain.theta) == full.num_params() == 2 ** 16 - 1

# %% [markdown]
# **Exercise 1 (the chain rule backwards).** Do by hand what `full.conditionals()` did above, for
# three binary variables: `joint[a, b, c]` is $p(x_1 = a, x_2 = b, x_3 = c)$; return the 2×2
# array of conditionals $p(x_3 = 1 \mid x_1 = a, x_2 = b)$.
#
# * `joint`: NumPy array of shape (2, 2, 2), float64, entries positive and summing to 1;
# * return: shape (2, 2), entry `[a, b]` $= p(x_3 = 1 \mid x_1 = a, x_2 = b)$: a NumPy array or a
#   torch tensor, float32 or float64.
#
# Write the body of each exercise's function, then run the checker below it. A checker tries
# your function on several inputs and, when it disagrees, tells you which common mistake fits.

# %%
def conditional_from_joint(joint):
    """p(x3 = 1 | x1, x2) as a (2, 2) array, from the (2, 2, 2) joint table."""
    ### BEGIN SOLUTION
    return joint[:, :, 1] / joint.sum(axis=2)
    ### END SOLUTION


# %%
check_conditional_from_joint(conditional_from_joint)

# %% [markdown]
# ## 3. Assumptions that cut the count
#
# **Independence**, $p(x) = \prod_i p(x_i)$: $n$ parameters. **Conditional independence** of
# $x$ and $y$ given $z$, written $x \perp y \mid z$, means
#
# $$p(x \mid y, z) = p(x \mid z) \quad \text{for every } y, z:$$
#
# once $z$ is known, $y$ tells nothing more about $x$. The **Markov assumption** is a list of
# such statements: each variable is independent of the distant past *given* the previous one,
# $x_i \perp x_{<i-1} \mid x_{i-1}$, so
#
# $$p(x) = p(x_1) \prod_{i=2}^n p(x_i \mid x_{i-1}), \qquad 1 + 2(n - 1) = 2n - 1 \text{ parameters},$$
#
# and **AR($k$)** keeps the previous $k$: $p(x_i \mid x_{i-k}, \dots, x_{i-1})$, with
# $\sum_i 2^{\min(i-1, k)} = 2^k - 1 + (n - k)\,2^k$ parameters. AR(0) is independence, AR(1)
# is Markov, AR($n-1$) is the chain rule again.
#
# **Exercise 2 (counting AR($k$)).** How many free parameters does an AR($k$) model with tabular
# conditionals need for $n$ binary variables? (Careful with the first $k$ variables.)
#
# * `n`, `k`: Python ints, $0 \le k < n$;
# * return: a Python int, exact (the checker tries $n = 784$).

# %%
def ar_params(n, k):
    """Free parameters of a binary AR(k) model over n variables, 0 <= k < n."""
    ### BEGIN SOLUTION
    return sum(2 ** min(i - 1, k) for i in range(1, n + 1))
    ### END SOLUTION


# %%
check_ar_params(ar_params)

# %% [markdown]
# **Exercise 3 (the Markov log-likelihood).** The log-likelihood, in nats, of a binary sequence
# `x` under a Markov chain with $p(x_1 = 1) = $ `p1` and transition table
# `T[a, b]` $= p(x_{i+1} = b \mid x_i = a)$.
#
# * `x`: NumPy integer array of shape (n,), $n \ge 1$, of 0s and 1s; `p1`: a Python float;
#   `T`: NumPy array of shape (2, 2), float64, each row summing to 1;
# * return: one number, $\log p(x)$ in nats: a Python float, a NumPy scalar or a 0-d torch
#   tensor, float32 or float64.

# %%
def markov_log_prob(x, p1, T):
    """log p(x) in nats under the Markov chain (p1, T)."""
    ### BEGIN SOLUTION
    import math
    logp = math.log(p1 if x[0] == 1 else 1 - p1)
    for a, b in zip(x[:-1], x[1:]):
        logp += math.log(T[a, b])
    return logp
    ### END SOLUTION


# %%
check_markov_log_prob(markov_log_prob)

# %% [markdown]
# ### 3.1 Is conditional independence true on digits? Count and see
#
# An assumption about data can be checked on data. Take the whole 28×28 training digits in
# raster order, $x$ = the central pixel (14, 14) and $z$ = its left neighbour (14, 13), the
# variable just before it. The Markov assumption claims $x \perp y \mid z$ for **every**
# earlier pixel $y$. We test two: $y$ = (14, 12), two to the left, and $y$ = (13, 14),
# directly above. The size of a dependence is the **conditional mutual information**, in bits,
#
# $$I(x; y \mid z) = \sum_{x, y, z} p(x, y, z)\, \log_2 \frac{p(x, y, z)\, p(z)}{p(x, z)\, p(y, z)},$$
#
# which is zero exactly when $p(x \mid y, z) = p(x \mid z)$ everywhere, estimated here from
# counts over the 50,000 digits (`gm_helpers/analysis/independence.py`). As a yardstick for "zero up to
# sampling noise", we also shuffle $y$ among the digits that share the same $z$: that keeps
# every count of $(x, z)$ and of $(y, z)$ and destroys any link between $x$ and $y$ given $z$.

# %%
digits = x_train[:, 0].numpy().astype(np.uint8)          # (50000, 28, 28)
x, z = digits[:, 14, 14], digits[:, 14, 13]               # a central pixel; its left neighbour
candidates = {"(14, 12), two to the left": digits[:, 14, 12],
              "(13, 14), directly above": digits[:, 13, 14]}
no_z = np.zeros((len(x), 0), dtype=np.uint8)              # conditioning on nothing: I(x; y)
info = {}
print(f"{'y':>27} {'I(x; y)':>8} {'I(x; y | z)':>12} {'shuffled':>9}   (bits; z = (14, 13))")
for name, y in candidates.items():
    info[name] = (conditional_mutual_information(x, y, no_z),
                  conditional_mutual_information(x, y, z),
                  conditional_mutual_information(x, shuffle_within(y, z, seed=0), z))
    print(f"{name:>27} {info[name][0]:8.4f} {info[name][1]:12.4f} {info[name][2]:9.5f}")
for name, y in candidates.items():
    t = conditional_table(x, y, z)
    print(f"\ny = {name}:")
    for c in (0, 1):
        print(f"  z = {c}:  p(x=1 | y=0, z) = {t['p_x_given_yz'][c, 0]:.3f} "
              f"(n = {t['count_yz'][c, 0]:>5}),  p(x=1 | y=1, z) = {t['p_x_given_yz'][c, 1]:.3f} "
              f"(n = {t['count_yz'][c, 1]:>5}),  p(x=1 | z) = {t['p_x_given_z'][c]:.3f}")
left, above = info["(14, 12), two to the left"], info["(13, 14), directly above"]

# %% jupyter={"source_hidden": true} tags=["claim-02-ci-nearly-holds", "claim-02-ci-fails-above", "hide-input"]
assert left[1] < 0.05 * left[0] and 60 < left[1] / left[2] < 70   # small, but not sampling noise
assert above[1] > 0.3 * above[0] and above[1] > 1000 * above[2]
assert (round(left[0], 3), round(left[1], 4), round(above[0], 3), round(above[1], 3)) == \
    (0.118, 0.0045, 0.260, 0.080)

# %% [markdown]
# The data give a nuanced answer, and it is worth reading the numbers:
#
# * **Two to the left, given the pixel in between: nearly independent.** On its own, pixel
#   (14, 12) carries 0.118 bits about $x$; given the left neighbour, 0.0045 bits, 4 % of it. The
#   conditionals agree closely where most digits are (within 0.05 when $z = 1$, and 0.199
#   against 0.213 when both are 0); they differ most in the rare case $y = 1, z = 0$ (ink two to
#   the left, a gap in between: 0.311 against 0.213, in 7 % of the digits). And 0.0045 bits is
#   still about 65 times what the shuffled data show, so the independence is an approximation,
#   a good one, not an exact fact.
# * **Directly above, given the left neighbour: clearly dependent.** Pixel (13, 14) keeps 0.080
#   of its 0.260 bits: when the left neighbour is off, ink above raises $p(x = 1)$ from 0.125 to
#   0.588. The Markov assumption in raster order throws this away. On a 4-pixel-wide patch the
#   pixel above is 4 steps back in raster order, so AR(4) is the first model that has it as a
#   parent: expect a large gain at $k = 4$ below.
#
# ### 3.2 Every model with its own smoothing, chosen on validation patches
#
# Each tabular model has one setting: the smoothing $\alpha$. For AR($k$) it acts on each
# conditional table: $\theta_i(c) = \dfrac{\text{count}(x_i = 1, c) + \alpha}{\text{count}(c) + 2\alpha}$
# for the context $c$ of $x_i$'s $k$ parents (the full table smooths its $2^n$ cells instead).
# How much smoothing is right depends on the model: an AR(2) table has 4 contexts per
# variable, each seen hundreds of times; an AR(15) table has up to 32,768, most seen once or
# never. So we choose $\alpha$ **separately for every model** by a grid search on the
# validation patches ($10^{-4}$ to $10$ in half-decade steps), never on the test patches, and
# report the test NLL at each model's chosen $\alpha$. Every AR($k$), $k = 0, \dots, 15$, and
# the full table: 17 models, 187 fits of a few milliseconds each (`choose_alpha` in
# `gm_helpers/analysis/counting.py`). Each model is a proper distribution at every $\alpha$; the cell
# checks that each chosen one sums to 1 over all 65,536 states.

# %%
rows = compare_tabular_models(train, test, ks=range(2, 16), valid=valid)   # alpha per model
by_name = {r["name"]: r for r in rows}
print(f"{'model':>12} {'params':>7} {'alpha':>7} {'train NLL':>10} {'valid NLL':>10} "
      f"{'test NLL':>9}   (nats per patch)")
for r in rows:
    print(f"{r['name']:>12} {r['params']:>7,} {r['alpha']:7.2g} {r['train_nll']:10.3f} "
          f"{r['valid_nll']:10.3f} {r['test_nll']:9.3f}")

# %% jupyter={"source_hidden": true} tags=["claim-02-alpha-chosen-on-validation", "claim-02-every-model-normalised", "claim-02-ar-param-count", "hide-input"]
for r in rows:
    assert r["alpha"] == ALPHAS[int(np.argmin(r["valid_curve"]))]            # chosen on valid
    assert abs(np.exp(r["model"].log_prob(states)).sum() - 1) < 1e-9         # a distribution
for k in range(2, 16):
    assert by_name[f"AR({k})"]["params"] == num_params("ar", 16, k=k) == 2**k - 1 + (16 - k) * 2**k

# %% [markdown]
# The choice, drawn: on the left the validation NLL of a few models across the grid, a dot at
# each model's minimum (independence is off the scale, flat at 9.80: its 16 probabilities are
# each estimated from 5,000 patches, and no $\alpha$ on the grid moves them); on the right the
# test NLL of every AR($k$) at its chosen $\alpha$, and, dashed, what the same models score
# with one fixed $\alpha = 0.01$ for all.

# %% mystnb={"figure": {"caption": "Left: the validation NLL of six models across the smoothing grid, a large dot at each model's chosen $\\alpha$. Right: the test NLL of every AR($k$) at its chosen $\\alpha$ (solid) and with one $\\alpha = 0.01$ for all (dashed): choosing $\\alpha$ per model keeps the high orders below the full table, while the fixed $\\alpha$ lets them overfit.", "name": "fig-02-choosing-alpha"}, "image": {"alt": "Two line plots. Left: validation NLL in nats per patch against smoothing alpha from 10 to the minus 4 to 10, log scale, for Markov (flat near 7.5), AR(4), AR(6), AR(8), AR(15) and the full joint; the AR curves reach their minima near 5.8 at alpha between 0.3 and 1, the full joint near 6.2 at alpha 0.01, rising steeply for larger alpha. Right: test NLL against AR order k from 0 to 15; both curves fall from 7.5 at k = 1 to about 5.8 at k = 4; the chosen-alpha curve stays near 5.75 to 5.9, the fixed-alpha curve rises to 6.4 at k = 15, crossing the dotted full-table line at 6.16 near k = 11."}}
fixed = {r["name"]: r for r in compare_tabular_models(train, test, ks=range(2, 16), alpha=0.01)}
names = ["independent", "Markov"] + [f"AR({k})" for k in range(2, 16)]
fig, (ax_alpha, ax_k) = plt.subplots(1, 2, figsize=(11, 4))
for name in ["Markov", "AR(4)", "AR(6)", "AR(8)", "AR(15)", "full joint"]:
    r = by_name[name]
    line, = ax_alpha.plot(ALPHAS, r["valid_curve"], ".-", label=name)
    ax_alpha.plot(r["alpha"], r["valid_nll"], "o", ms=9, color=line.get_color())
ax_alpha.set(xscale="log", xlabel="smoothing alpha (pseudo-counts)", ylim=(5.6, 8.0),
             ylabel="validation NLL (nats per patch)", title="choosing alpha on validation")
ax_alpha.legend(fontsize=8, ncol=2)
ax_k.plot(range(16), [by_name[n]["test_nll"] for n in names], "o-", label="alpha chosen per model")
ax_k.plot(range(16), [fixed[n]["test_nll"] for n in names], "s--", label="alpha = 0.01 for all")
ax_k.axhline(by_name["full joint"]["test_nll"], color="k", ls=":", label="full table, chosen alpha")
ax_k.set(xlabel="AR order k  (0 = independent, 1 = Markov)", ylabel="test NLL (nats per patch)",
         ylim=(5.6, 8.0), title="test NLL by order k")
ax_k.text(1.3, 7.95, f"k = 0 (independent): {by_name['independent']['test_nll']:.2f}, off scale",
          ha="left", va="top", fontsize=8)
ax_k.legend(fontsize=8, loc="center right")
ax_k.grid(alpha=0.3)
plt.show()
for name in ("AR(4)", "AR(8)"):
    print(f"{name}: test NLL {by_name[name]['test_nll']:.3f} at its chosen alpha "
          f"{by_name[name]['alpha']:.2g}, {fixed[name]['test_nll']:.3f} at alpha = 0.01")

# %% jupyter={"source_hidden": true} tags=["claim-02-fixed-alpha-misleads", "hide-input"]
assert fixed["AR(8)"]["test_nll"] > fixed["AR(4)"]["test_nll"] + 0.1     # what alpha = 0.01 said
assert by_name["AR(8)"]["test_nll"] < by_name["AR(4)"]["test_nll"]        # and what it hid

# %%
best = min(rows, key=lambda r: r["valid_nll"])            # chosen on validation, like alpha
print(f"lowest validation NLL: {best['name']} (alpha = {best['alpha']:.2g}); its test NLL "
      f"{best['test_nll']:.3f}; lowest test NLL: {min(rows, key=lambda r: r['test_nll'])['name']}")
logp_best = best["model"].log_prob(test)                  # (20000,) per-patch log-likelihoods
for name in ("AR(4)", "AR(5)", "AR(7)", "AR(8)", "AR(15)", "full joint"):
    diff = logp_best - by_name[name]["model"].log_prob(test)   # paired, patch by patch
    print(f"  {name:>10} - {best['name']}: test NLL {diff.mean():+.3f} "
          f"+- {diff.std() / np.sqrt(len(diff)):.3f} nats (standard error)")
best_k = int(best["name"][3:-1])
lead = {n: round(logp_best.mean() - by_name[n]["model"].log_prob(test).mean(), 3)
        for n in ("AR(4)", "AR(7)", "AR(8)")}
full_row = by_name["full joint"]
valid_nll_k = [by_name[f"AR({k})"]["valid_nll"] for k in range(6, 16)]

# %% jupyter={"source_hidden": true} tags=["claim-02-sweet-spot", "claim-02-underfit-overfit", "hide-input"]
assert lead == {"AR(4)": 0.049, "AR(7)": 0.008, "AR(8)": 0.020}
assert all(by_name[f"AR({k})"]["test_nll"] - best["test_nll"] < 0.05 for k in range(4, 9))
assert best["name"] == "AR(6)" == min(rows, key=lambda r: r["test_nll"])["name"]
assert rows[0]["train_nll"] == max(r["train_nll"] for r in rows)          # independence underfits
assert rows[0]["test_nll"] == max(r["test_nll"] for r in rows)
assert full_row["train_nll"] == min(r["train_nll"] for r in rows)         # the table fits best...
assert all(full_row["test_nll"] > by_name[f"AR({k})"]["test_nll"] for k in range(4, 16))  # ...
assert all(a < b for a, b in zip(valid_nll_k, valid_nll_k[1:]))           # worse with every k > 6

# %% mystnb={"figure": {"caption": "Train and test NLL against the number of free parameters, each model at its chosen $\\alpha$: independence underfits, the big gain comes by AR(4), and beyond AR(6) extra parameters lower the train NLL while the test NLL rises again, the full table worst of the high-capacity models.", "name": "fig-02-params-vs-nll"}, "image": {"alt": "Line plot of NLL in nats per example against free parameters on a log scale from 16 to 65,535, with train NLL solid and test NLL dashed. Both fall from about 9.8 (independent) through 7.5 (Markov) and 7.2 (AR(2)) to 5.8 at AR(4); after that the train NLL keeps falling to about 5.3 while the test NLL stays near 5.75 and rises to 5.9 for AR(15) and 6.16 for the full joint."}}
shown = ["independent", "Markov", "AR(2)", "AR(4)", "AR(6)", "AR(8)", "AR(15)", "full joint"]
plot_params_vs_nll([by_name[n] for n in shown],
                   title="4x4 patches, alpha per model: more parameters is not always better")
plt.show()

# %% [markdown]
# Read the plot from left to right:
#
# * **independence** (16 parameters) **underfits**: train and test NLL are both the highest;
#   it cannot express that neighbouring pixels agree;
# * **Markov** and **AR(2)** help a lot: most of what a pixel needs to know is next to it;
# * **AR(4)** makes the big jump the measurement of 3.1 predicted: in raster order on a
#   4-wide patch, four steps back is **the pixel directly above**;
# * **AR(5)** and **AR(6)** gain a little more (for a pixel in column $c \ge 2$ of row $r$,
#   AR(5) adds the upper-left diagonal $(r-1, c-1)$ and AR(6) the pixel $(r-1, c-2)$ left of
#   it; near the left edge the extra parents wrap to rows further up), and **AR(6)** has
#   the lowest validation NLL: **the sweet spot on these data is AR(6)**, and the test patches
#   agree. Its lead over AR(4) (0.049 nats per patch) is about 16 standard errors; over AR(7)
#   and AR(8) it is small (0.008 and 0.020 nats), though still several standard errors;
# * beyond $k = 6$ the validation NLL rises with every extra parent while the train NLL keeps
#   falling: each extra parent doubles the table (2,303 parameters at AR(8), 65,535 at AR(15)),
#   and the counts behind each entry get too thin. That is **overfitting**, mild at AR(8)
#   and larger at AR(15);
# * the **full table** (65,535 parameters for 5,000 examples) overfits most: the lowest train
#   NLL, and a test NLL worse than every AR($k$) with $k \ge 4$, including AR(15), which can
#   represent exactly the same distributions. The difference is only the smoothing: spread
#   over the 15 conditional tables, the pseudo-counts help much more than over the $2^{16}$
#   states.
#
# **One fixed $\alpha$ misleads.** With $\alpha = 0.01$ for every model (dashed curve), AR(8)
# looks clearly worse than AR(4) and one would conclude that "AR(4) is the sweet spot and AR(8)
# overfits". That conclusion came from the untuned constant: 0.01 pseudo-counts are far too few
# for the thin tables of $k \ge 5$, whose chosen $\alpha$ is 0.32 or 1. With each model's own
# $\alpha$, AR(8) beats AR(4). The models with few parents hardly care: their validation curves
# are flat, because every context is seen many times.
#
# ### What smoothing does to the full table
#
# The full table's chosen $\alpha$ is 0.01, so by the mixture formula of Section 2 it puts
# $w = 2^{16}\alpha / (N + 2^{16}\alpha)$ of its mass on the **uniform** distribution over all
# 65,536 patches. The validation data *want* that mass on unseen patches, because about one
# validation patch in six is one. But a table knows nothing about which unseen patches look
# like strokes, so it spreads the mass evenly; an AR model spreads its unseen-patch mass
# according to its conditionals, towards plausible patches.

# %%
a = full_row["alpha"]
w = 2 ** 16 * a / (len(train) + 2 ** 16 * a)              # weight on the uniform distribution
print(f"full table, alpha = {a:.2g}: weight on the uniform distribution w = {w:.1%}")
unseen_test_patch = ~seen[as_int(test)]                   # (20000,) test patches unseen in train
print(f"{'model':>10} {'mass on unseen states':>22} {'mean log p, unseen test patches':>32} "
      f"{'seen':>7}")
for name in ("full joint", best["name"]):
    model = by_name[name]["model"]
    mass = np.exp(model.log_prob(states))[~seen].sum()
    logp = model.log_prob(test)
    print(f"{name:>10} {mass:22.1%} {logp[unseen_test_patch].mean():32.2f} "
          f"{logp[~unseen_test_patch].mean():7.2f}")
full_unseen = full_row["model"].log_prob(test)[unseen_test_patch].mean()
best_unseen = best["model"].log_prob(test)[unseen_test_patch].mean()

# %% jupyter={"source_hidden": true} tags=["claim-02-full-table-uniform-mass", "hide-input"]
assert a == 0.01 and abs(w - 0.116) < 0.0005
assert best_unseen > full_unseen + 2                      # AR gives unseen patches far more
assert (~seen).sum() == 64_174
assert (round(-full_unseen, 2), round(-best_unseen, 2)) == (13.25, 10.52)

# %% [markdown]
# The table gives each of the 64,174 unseen states the same tiny probability, so an unseen
# test patch costs it 13.25 nats on average; AR(6) charges unseen test patches 10.52 nats,
# 2.7 nats less, while the two are close on patches seen in training (4.73 and 4.78). That
# is where the table loses. It also shows in the samples: about one full-table sample in nine
# (the weight $w$) is a uniformly random patch, salt and pepper; the rest are copies of
# training patches.
# We count one simple property of a patch, the number of **neighbour disagreements** (pairs of
# horizontally or vertically adjacent pixels that differ, 24 pairs in a 4×4 patch): a uniform
# random patch has 12 on average, real patches about 3.8.

# %% mystnb={"figure": {"caption": "25 samples of 4\u00d74 patches from each model: independent samples are salt and pepper, Markov samples streaky, AR(4) to AR(8) samples look like pieces of strokes as real patches do, and the full table mixes copies of training patches with uniformly random ones.", "name": "fig-02-patch-samples"}, "image": {"alt": "Six 5 by 5 grids of tiny black-and-white patches, titled independent, Markov, AR(4), AR(6), AR(8) and full joint. The independent grid is busy with scattered white pixels; the Markov grid shows short horizontal white streaks; the AR grids are mostly black with solid white blocks and edges; the full-joint grid is mostly clean patches with a few speckled ones."}}
shown = ["independent", "Markov", "AR(4)", "AR(6)", "AR(8)", "full joint"]
samples = {name: by_name[name]["model"].sample(20_000, seed=0) for name in shown}  # (20000, 16)


def disagreements(p):
    """Adjacent pixel pairs that differ, per patch, averaged: (P, 16) -> float."""
    g = p.reshape(-1, 4, 4).astype(int)                   # (P, 4, 4)
    vertical = np.abs(np.diff(g, axis=1)).sum((1, 2))     # (P,) pairs one above the other
    horizontal = np.abs(np.diff(g, axis=2)).sum((1, 2))   # (P,) pairs side by side
    return float((vertical + horizontal).mean())


print(f"neighbour disagreements per patch: test patches {disagreements(test):.2f}; samples: "
      + ", ".join(f"{n} {disagreements(s):.2f}" for n, s in samples.items()))
fig, axes = plt.subplots(1, len(shown), figsize=(2.2 * len(shown), 2.6))
for ax, name in zip(axes, shown):
    show_images(samples[name][:25], nrow=5, ax=ax, title=name)
plt.show()
d = {n: disagreements(s) for n, s in samples.items()}

# %% jupyter={"source_hidden": true} tags=["claim-02-sample-quality", "hide-input"]
assert d["independent"] > 2.5 * disagreements(test) and d["Markov"] > 1.5 * disagreements(test)
assert abs(d[best["name"]] - disagreements(test)) < 0.3 < d["full joint"] - disagreements(test)

# %% [markdown]
# Independent samples are salt and pepper (10 disagreements per patch, close to the 12 of pure
# noise); Markov samples are streaky, because each pixel depends only on its predecessor in
# raster order, its left neighbour except at the start of a row;
# AR(4), AR(6) and AR(8) samples have the statistics of real patches (about 4 disagreements)
# and look like pieces of strokes; the full table's samples are training patches plus the
# noise patches of its uniform share.

# %% [markdown]
# ## 4. The ordering matters
#
# The chain rule holds in **any** order of the variables: the full table gives the same
# likelihood whichever order we factorise it in. An AR($k$) model is different: its $k$
# parents are the $k$ variables that come just before it *in the chosen order*, so the order
# decides which pixels can inform which. Four orders of a 4×4 patch:

# %% mystnb={"figure": {"caption": "Four orders of the 16 pixels of a 4\u00d74 patch, each pixel numbered by its step in the order: an AR($k$) model's parents are the $k$ pixels just before it in the order, so the order decides which pixels can inform which.", "name": "fig-02-orderings"}, "image": {"alt": "Four 4 by 4 grids of numbered cells coloured from dark purple (step 0) to yellow (step 15). Raster: 0 to 3 along the top row, then row by row. Column: 0 to 3 down the first column, then column by column. Snake: 0 to 3 left to right on the top row, 4 to 7 right to left on the second row, and so on. Random: the numbers 0 to 15 scattered without pattern."}}
fig, axes = plt.subplots(1, 4, figsize=(9, 2.4))
for ax, name in zip(axes, ["raster", "column", "snake", "random"]):
    step = np.empty(16, dtype=int)
    step[image_ordering(name, 4, 4)] = np.arange(16)   # step at which each pixel is visited
    ax.imshow(step.reshape(4, 4), cmap="viridis")
    for (r, c), s in np.ndenumerate(step.reshape(4, 4)):
        ax.text(c, r, s, ha="center", va="center", color="w")
    ax.set_title(name)
    ax.set_axis_off()
plt.show()

# %% [markdown]
# For each order and each $k$ we again choose $\alpha$ on the validation patches and report
# the test NLL at that $\alpha$.

# %%
ks_order = (1, 2, 4, 6, 15)
order_nll = {}
print(f"{'order':>8} " + " ".join(f"{'AR(%d)' % k:>7}" for k in ks_order)
      + "   test NLL, alpha chosen on valid")
for name in ["raster", "column", "snake", "random"]:
    order = image_ordering(name, size, size, seed=0)
    chosen = [choose_alpha(lambda a, k=k: TabularAR(k, a, order=order), train, valid)["model"]
              for k in ks_order]
    order_nll[name] = [float(-m.log_prob(test).mean()) for m in chosen]
    print(f"{name:>8} " + " ".join(f"{v:7.3f}" for v in order_nll[name]))
train_nll_15 = {name: -TabularAR(15, order=image_ordering(name, 4, 4)).fit(train)
                .log_prob(train).mean() for name in ["raster", "column", "snake", "random"]}
print("AR(15) = chain rule, unsmoothed, train NLL in every order:",
      ", ".join(f"{k} {v:.6f}" for k, v in train_nll_15.items()))
by_k = {k: [order_nll[n][i] for n in order_nll] for i, k in enumerate(ks_order)}

# %% jupyter={"source_hidden": true} tags=["claim-02-ordering-matters", "claim-02-chain-rule-any-order", "hide-input"]
assert max(by_k[1]) - min(by_k[1]) > 0.5 and max(by_k[2]) - min(by_k[2]) > 0.5
assert order_nll["random"][0] == max(by_k[1]) and order_nll["snake"][0] == min(by_k[1])
assert max(train_nll_15.values()) - min(train_nll_15.values()) < 1e-9
assert max(by_k[15]) - min(by_k[15]) < 0.05
assert order_nll["snake"][1] == min(by_k[2]) and all(
    order_nll["snake"][i] > max(order_nll["raster"][i], order_nll["column"][i]) for i in (2, 3))

# %% [markdown]
# With few parents the order changes the test NLL by more than half a nat per patch. The
# random order is worst: its "previous" pixels are scattered across the patch. The snake
# order, whose predecessor is always an adjacent pixel, does best at $k = 1$ and $k = 2$, but
# falls behind raster and column at $k = 4$ and $k = 6$: reversing every other row puts the
# pixel above 1 to 7 steps back, depending on the column, instead of always 4. Raster and
# column orders are close to each other, because strokes run both ways. With all 15 parents (the
# chain rule) and no smoothing, the train NLL is *identical* in every order, as it must be:
# the chain rule makes no assumption, only AR($k$) truncations do. (With smoothing the AR(15)
# test NLLs differ slightly, because smoothing 15 conditionals in one order is not the same as
# smoothing them in another.)
#
# ## 5. The same model on text: AR($k$) over characters is a language model
#
# Nothing in the chain rule is about pixels. A text is a sequence of tokens $w_1, \dots, w_T$,
# here characters, and
#
# $$p(w_1, \dots, w_T) = \prod_{t=1}^{T} p(w_t \mid w_1, \dots, w_{t-1})$$
#
# is exactly how a language model scores a text and writes one: predict the next token from
# the tokens before it. Keep only the last $k$ characters as the context and this is AR($k$)
# over characters, which the language-modelling literature calls an **$n$-gram model**, with
# $n = k + 1$ (Shannon drew imitations of English from such tables in 1948). Two things change
# from the patches. Each variable now takes $m = 96$ values (the 95 printable ASCII characters
# and the newline), so a conditional table has $m^k$ rows of $m - 1$ numbers. And **one table
# serves every position** $t$, because text is read the same way wherever it stands; each
# pixel of a patch had its own table. Fitting is counting again, with the same additive
# smoothing as the patches, now over $m$ values:
#
# $$p(w \mid c) = \frac{\text{count}(c, w) + \alpha}{\text{count}(c) + m\,\alpha},
#   \qquad c = (w_{t-k}, \dots, w_{t-1}).$$
#
# A context never seen in training gets the uniform $1/m$. The package's `CharAR`
# (`gm_helpers/models/ngram.py`) counts every (context, character) pair of the training text
# at once, and computes $p(w \mid c)$ from the counts:

# %%
print(inspect.getsource(CharAR.fit))
print(inspect.getsource(CharAR._prob))

# %% [markdown]
# The text must be available offline and free to share, and written from memory would not
# do. We use the course's own prose: the markdown of these six lectures, frozen into
# `gm_helpers/corpora/course_prose.txt` (MIT-licensed like the rest of the course, so it ships
# with the package). Its paragraphs are split like the patches: 8 in 10 for training, 1 in 10
# for validation (to choose $\alpha$, as in section 3.2) and 1 in 10 for test.

# %%
train_text, valid_text, test_text = (load_course_prose(s) for s in ("train", "valid", "test"))
print(f"characters: {len(train_text):,} train, {len(valid_text):,} valid, {len(test_text):,} test")
print(train_text.splitlines()[185])                          # one paragraph of it

# %% [markdown]
# We fit $k = 0, \dots, 6$, each with its own $\alpha$ chosen on the validation text by
# section 3.2's `choose_alpha`, unchanged: a model's `log_prob` gives one log-probability per
# character, so the mean is the NLL per character. Language models report it in **bits per
# character**, $\text{NLL} / \ln 2$. The last column counts the test characters whose context
# never occurred in the training text.

# %% mystnb={"figure": {"caption": "Bits per character of AR($k$) models over the course's own prose, for context lengths 0 to 6: the test curve is lowest at $k = 3$ (2.43 bits) and rises after it, while the training curve keeps falling, the same overfitting as on the patches.", "name": "fig-02-text-bits"}, "image": {"alt": "Line plot of bits per character against context length k from 0 to 6. The training curve falls from 4.8 to about 1.1. The test curve falls from 4.8 to a minimum of about 2.4 at k = 3, then rises to about 3.5 at k = 6."}}
def bits_per_char(model, text):
    """Mean -log2 p(w_t | context) over the characters of text."""
    return float(-model.log_prob(text).mean() / np.log(2))


text_rows = []
for k in range(7):
    choice = choose_alpha(lambda a, k=k: CharAR(k, a), train_text, valid_text)
    model = choice["model"]
    text_rows.append({"k": k, "alpha": choice["alpha"], "params": model.num_params(),
                      "seen": model.num_contexts_seen(), "train": bits_per_char(model, train_text),
                      "test": bits_per_char(model, test_text),
                      "unseen": float((model.context_counts(test_text) == 0).mean())})
print(f"{'':>2} {'parameters':>11} {'contexts':>9} {'':>6}  {'bits per character':^18}  test characters")
print(f"{'k':>2} {'m^k (m-1)':>11} {'seen':>9} {'alpha':>6}  {'train':>8} {'test':>8}   "
      f"with an unseen context")
for r in text_rows:
    print(f"{r['k']:2d} {r['params']:11.3g} {r['seen']:9,} {r['alpha']:6.2g}  {r['train']:8.2f} "
          f"{r['test']:8.2f}   {r['unseen']:12.1%}")
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot([r["k"] for r in text_rows], [r["train"] for r in text_rows], "s--", label="train")
ax.plot([r["k"] for r in text_rows], [r["test"] for r in text_rows], "o-", label="test")
ax.set(xlabel="context length k (characters)", ylabel="bits per character",
       title="AR(k) over the characters of the course's prose")
ax.legend()
ax.grid(alpha=0.3)
plt.show()
test_bits = [r["test"] for r in text_rows]
best_text_k = int(np.argmin(test_bits))

# %% jupyter={"source_hidden": true} tags=["claim-02-char-ar-bits", "hide-input"]
assert best_text_k == 3 and all(a > b for a, b in zip(test_bits[:4], test_bits[1:4]))
assert all(a < b for a, b in zip(test_bits[3:], test_bits[4:]))                # overfits after 3
assert all(a["train"] > b["train"] for a, b in zip(text_rows, text_rows[1:]))  # train keeps falling
assert [round(b, 2) for b in test_bits] == [4.81, 3.73, 2.87, 2.43, 2.57, 3.02, 3.51]
assert text_rows[best_text_k]["alpha"] == 0.01 and round(2 ** test_bits[3], 1) == 5.4
assert round(text_rows[3]["unseen"], 2) == 0.03 and round(text_rows[6]["unseen"], 1) == 0.3
assert text_rows[6]["train"] < 1.1 and 53_000 < max(r["seen"] for r in text_rows) < 54_000

# %% [markdown]
# The same story as the patches of section 3.2, on text. Knowing nothing of the past ($k = 0$,
# character frequencies only) costs 4.81 bits per test character; each extra character of
# context helps, down to **2.43 bits at $k = 3$**, the sweet spot here: a **perplexity** of
# $2^{2.43} \approx 5.4$, as unsure as a fair choice among five or six characters. Beyond it the
# test NLL rises again while the training NLL keeps falling (below 1.1 bits at $k = 6$): the
# model **overfits**. The last columns say why. Of the $96^k$ possible contexts at most about
# 54,000 occur in the 121,000 characters of training text, so at $k = 6$ three test
# characters in ten follow a context the table never saw, where all it can offer is $1/96$.
#
# To write text, run the chain rule forwards, one character at a time, with the same ancestral
# sampling as every autoregressive model of this course (you write it in Exercise 4). We sample
# from the counts themselves ($\alpha = 0$), as Shannon did: smoothing is there to score text
# the table has not seen. Each line starts from the prompt "The "; newlines are shown as ¶.

# %%
for k in (0, 1, 2, 3, 4, 8):
    sample = CharAR(k).fit(train_text).sample(150, seed=0, prompt="The ")
    print(f"k = {k}: {sample.replace(chr(10), ' ¶ ')}")
pieces = [sample[i:i + 20] for i in range(4, len(sample) - 20)]           # k = 8's sample
copied = np.mean([piece in train_text for piece in pieces])
print(f"k = 8: {copied:.0%} of its 20-character pieces occur word for word in the training text")
smoothed = CharAR(4, text_rows[4]["alpha"]).fit(train_text)
drawn = smoothed.sample(300, seed=0, prompt="The ")
lost = float((smoothed.context_counts(drawn)[4:] == 0).mean())
print(f"the smoothed AR(4) (alpha = {smoothed.alpha:.2g}): {lost:.0%} of 300 characters drawn "
      f"from a context it never saw")

# %% jupyter={"source_hidden": true} tags=["claim-02-char-ar-samples", "hide-input"]
assert copied > 0.3 and lost > 0.5

# %% [markdown]
# At $k = 0$ the letters come at the right rates and nothing else is right. At $k = 1$ the
# text has the rhythm of words, pronounceable runs of letters between spaces; at $k = 2$ the
# commonest short words appear ("of", "the"), and a dollar sign opens the course's inline
# mathematics. At $k = 3$ and $k = 4$ most words are real and some formulas are well formed
# ($\mathcal N(\mu_\phi(x))$), though the sentences mean nothing. At $k = 8$ it writes long
# stretches of the course back word for word: with so long a context most contexts were seen
# once, and the table has memorised what followed. That is overfitting again, seen in the
# samples. And
# smoothing, right for scoring, is wrong for writing: a smoothed table sometimes draws a
# character its context was never followed by; the new context is one it never saw, where it
# can only draw uniformly, and the text rarely finds its way back (the last line above).
#
# **From $n$-grams to today's language models.** A large language model (LLM) is this
# section's model with three changes. Its tokens are pieces of words, tens of thousands of
# them, not 96 characters. Its context window, the $k$ here, holds thousands of tokens, not 3.
# And each conditional $p(w_t \mid w_{t-k}, \dots, w_{t-1})$ is computed by one neural network
# shared by every position (a Transformer), not read from a table: a table over such contexts
# would need more rows than the $2^{784} - 1$ numbers of section 1's full table of a digit,
# and almost every context would be unseen, the failure measured above. A network maps similar contexts to
# similar predictions, so it has something to say about a context it never saw. The rest is
# this section: the chain rule, maximum likelihood (the NLL per token, reported in bits or as a
# perplexity) and sampling one token at a time. The next section takes the same step for
# pixels: the FVSBN replaces AR($k$)'s tables by a logistic regression on the whole past, and
# Lecture 3's NADE and MADE by neural networks.
#
# ## 6. From tables to functions: the FVSBN
#
# Even AR($k$) tables grow as $2^k$: a model of whole 28×28 digits with useful $k$ is out of
# reach. The way out, taken by every model from here on, is to **write each conditional as a
# function** with few parameters. The simplest is a logistic regression on all the pixels
# before it, the *fully visible sigmoid belief network* (Frey 1998):
#
# $$p(x_d = 1 \mid x_{<d}) = \sigma\Big(b_d + \sum_{j<d} W_{dj}\, x_j\Big).$$
#
# It keeps the exact chain rule (no independence assumption at all) but restricts each
# conditional to a logistic regression, a strong assumption of a different kind, and uses
# $\sum_d d = D(D+1)/2$ parameters: 307,720 for MNIST, against $2^{784} - 1$. The whole model
# is one masked matrix product (from `gm_helpers/models/fvsbn.py`):
#
# ```python
# # mask[d, j] = 1 iff pixel j comes before pixel d: strictly lower triangular in the order
# def logits(self, x):
#     return x @ (self.W * self.mask).T + self.b          # (B, D)
# def log_prob(self, x):
#     return bernoulli_log_prob(self.logits(x), x)         # sum_d log p(x_d | x_<d), (B,)
# ```
#
# Training maximises the likelihood of all 784 conditionals at once, in parallel: one forward
# pass per image. This is the first model of the course that learns by gradient descent, so
# here is the loop that trains it, and every later model too: `fit`, printed from the package.
# Per minibatch: the loss is the mean negative log-likelihood in nats, `backward` computes its
# gradient with respect to every parameter, and the optimizer (Adam) takes one step; after each
# epoch, the same loss on held-out data. Nothing else: run files, time budgets and the other
# machinery of long runs wrap around this loop elsewhere (`gm_helpers/training/runs.py`).

# %%
print(inspect.getsource(fit))

# %% [markdown]
# A short live run (two epochs on 10,000 images), just to watch the loop work:

# %% tags=["nbval-ignore-output"]
live = FVSBN(D=784).to(device)
live.init_biases(x_train)                    # start from the independent model's logits
print("parameters:", f"{live.num_params():,}", "=", 784 * 785 // 2)
history = fit(live, x_train[:10_000], x_valid, num_epochs=2, batch_size=100,
              optimizer=torch.optim.Adam(live.parameters(), lr=3e-3))
print("valid NLL per epoch:", [round(v, 1) for v in history["valid_nll"]])

# %% [markdown]
# The shipped checkpoint was trained with the same loop on all 50,000 training images, keeping
# the epoch with the best validation NLL; here we load it and **measure** its NLL on the full
# test set again.

# %%
fvsbn, entry = load_shipped("fvsbn.pt")
print("trained with:", entry["command"])
test_nll = evaluate_nll(fvsbn, x_test)
print(f"FVSBN test NLL: {test_nll:.2f} nats   (Larochelle & Murray 2011: 97.45; "
      f"manifest: {entry['test_nll']:.2f})")
# independent pixels, alpha = 1 pseudo-count as in Lecture 1 (50,000 images: alpha barely matters)
independent_nll = -TabularAR(0, alpha=1.0).fit(x_train.flatten(1).byte().numpy()).log_prob(
    x_test.flatten(1).byte().numpy()).mean()
print(f"independent pixels (Lecture 1): {independent_nll:.2f} nats")

# %% jupyter={"source_hidden": true} tags=["claim-02-fvsbn-params", "claim-02-fvsbn-test-nll", "hide-input"]
assert fvsbn.num_params() == 784 * 785 // 2 == 307_720
assert abs(test_nll - entry["test_nll"]) < 0.01 and abs(test_nll - 97.45) < 1.0
assert round(independent_nll) == 206 and round(test_nll) == 98

# %% [markdown]
# Its learning curves, saved in the manifest: the training NLL of each epoch (dashed: the mean
# over the epoch's batches, while the weights were still moving) and the validation NLL after
# it (solid). The star marks the epoch whose weights were kept.

# %% mystnb={"figure": {"caption": "The FVSBN's learning curves over 60 epochs: the training NLL keeps falling while the validation NLL levels off near 98.9 nats, and the star marks the epoch whose weights were kept (the lowest validation NLL).", "name": "fig-02-fvsbn-curves"}, "image": {"alt": "Line plot of NLL in nats against epoch from 0 to 60, titled fvsbn.pt, 60 epochs, 4 min. A dashed training curve falls smoothly to about 96.2; a solid validation curve with dots falls steeply, then levels off just below 99; a black star near epoch 55 marks the kept checkpoint."}}
manifest = shipped_manifest()
plot_checkpoint_curves(["fvsbn.pt"], manifest)
plt.show()
history_fvsbn = manifest["fvsbn.pt"]["history"]
kept = history_fvsbn["valid_epoch"][int(np.argmin(history_fvsbn["valid_nll"]))]
print(f"lowest validation NLL: {min(history_fvsbn['valid_nll']):.2f} nats at epoch {kept} of "
      f"{entry['epochs']}; the checkpoint holds epoch {entry['best_epoch']}")

# %% jupyter={"source_hidden": true} tags=["claim-02-fvsbn-kept-best-epoch", "hide-input"]
assert kept == entry["best_epoch"]


# %% [markdown]
# From about 206 nats (independent pixels) to about 98 with a model whose conditionals are
# *still linear* in the logit. Sampling is the price of the chain rule: 784 sequential steps,
# one per pixel, because pixel $d$ needs the pixels drawn before it. Scoring the same images
# is one parallel pass. We time both as this course times everything
# (`gm_helpers.analysis.timing`): the processor time the work takes, on one thread, the
# fastest of a few repeats. Processor time, unlike the clock on the wall, does not count the
# moments when other programs had the processor.

# %% tags=["nbval-ignore-output"]
samples_fvsbn = fvsbn.sample(32, generator=torch.Generator().manual_seed(0))   # (32, 784)
with one_thread(), torch.no_grad():
    sampling = cpu_time(lambda: fvsbn.sample(32, generator=torch.Generator().manual_seed(0)), 5)
    scoring = cpu_time(lambda: fvsbn.log_prob(samples_fvsbn), 20)  # 784 conditionals at once
print(f"sampling 32 images (784 sequential steps): {1e3 * sampling:6.1f} ms of CPU time")
print(f"scoring the same 32 images (one pass):     {1e3 * scoring:6.1f} ms of CPU time "
      f"({sampling / scoring:.0f}x less)")

# %% mystnb={"figure": {"caption": "Samples of the FVSBN, whose conditionals are logistic regressions on the pixels before: they have strokes and some digit-like structure, far from the noise of independent pixels, but few are recognisable digits.", "name": "fig-02-fvsbn-samples"}, "image": {"alt": "Two rows of sixteen white-on-black images of blotchy, broken strokes that resemble handwriting but mostly not any particular digit."}}
show_images(samples_fvsbn, nrow=16, title="FVSBN samples")
plt.show()

# %% [markdown]
# The samples have strokes and some digit-like structure, far from the noise of Lecture 1,
# but a linear conditional cannot hold a whole digit's shape in mind. What does it look at?
# Row $d$ of the masked weight matrix is pixel $d$'s logistic regression: blue pixels make pixel
# $d$ more likely to be on, red ones less (the colour range is clipped at the 99th percentile
# so that the weaker, distant weights show).

# %% mystnb={"figure": {"caption": "The FVSBN weights into four pixels (the black cross), blue for weights that make the pixel more likely to be on and red for less likely: each pixel leans mostly on its neighbours to the left and above, and everything at or after it in raster order is exactly zero, the mask.", "name": "fig-02-fvsbn-weights"}, "image": {"alt": "Four 28 by 28 heat maps in red, white and blue, titled into pixel (8, 14), (14, 10), (14, 14) and (20, 16), each with a black cross at that pixel. In each map, coloured weights fill only the rows above the cross and the part of its own row to its left, with strong dark blue just left of and above the cross and scattered red and blue along the digit border; everything below and to the right is blank grey."}}
W = (fvsbn.W * fvsbn.mask).detach()                       # (784, 784)
pixels = [(8, 14), (14, 10), (14, 14), (20, 16)]
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
for ax, (r, c) in zip(axes, pixels):
    w_row = W[r * 28 + c].view(28, 28)
    lim = w_row.abs().flatten().quantile(0.99)   # clip the few large neighbour weights
    ax.imshow(w_row.numpy(), cmap="RdBu", vmin=-lim, vmax=lim)
    ax.plot(c, r, "k+", ms=10)
    ax.set_title(f"into pixel ({r}, {c})")
    ax.set_axis_off()
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-02-fvsbn-mask", "hide-input"]
assert torch.equal(fvsbn.order, torch.arange(784))        # raster order
assert (W.triu() == 0).all()                              # nothing at or after pixel d
for r, c in pixels:
    d = r * 28 + c
    assert W[d, d - 1] > 0 and W[d, d - 28] > 0           # left and above: ink continues

# %% [markdown]
# Each pixel leans on its immediate neighbours to the left and above (positive: ink
# continues), and everything at or after it in raster order is exactly zero, the mask. NADE
# (Lecture 3) replaces these 784 separate regressions by one shared hidden layer, and lowers
# the test NLL further. Two NADE numbers, not to be confused: the course's own checkpoint and
# the paper's.

# %%
nade_entry = manifest["nade.pt"]
print(f"NADE, this course's checkpoint (Lecture 3, manifest, {nade_entry['epochs']} epochs): "
      f"{nade_entry['test_nll']:.2f} nats")
print("NADE, Larochelle & Murray 2011 (500 hidden units): 88.86 nats")
print(f"FVSBN, this course's checkpoint (measured above): {test_nll:.2f} nats")

# %% jupyter={"source_hidden": true} tags=["claim-02-nade-numbers", "hide-input"]
assert nade_entry["test_nll"] < test_nll
assert entry["epochs"] == 60 and nade_entry["epochs"] == 40 and round(nade_entry["test_nll"], 2) == 87.88

# %% [markdown]
# **Exercise 4 (implement the sampler).** Every autoregressive model in this course samples
# the same way as the FVSBN above, *ancestral sampling*: draw $x_1$ from $p(x_1)$, then $x_2$
# from $p(x_2 \mid x_1)$, and so on, each variable given the values already drawn. Write it for
# any model, given as a function:
#
# * `conditional`: a function; `conditional(x_before)` takes the `(B, d)` NumPy array of the
#   values drawn so far (the first `d` variables of `B` samples; for `d = 0` an empty `(B, 0)`
#   array) and returns the `(B,)` NumPy float64 array of probabilities
#   $p(x_d = 1 \mid x_{<d})$ (variables are numbered from 0 in code);
# * `u`: NumPy array of shape `(B, D)`, float64, uniform numbers in $[0, 1)$: set $x_d = 1$
#   exactly when `u[:, d] < p`, which happens with probability $p$ (a Bernoulli draw made
#   reproducible);
# * return: `x`, a NumPy array of shape `(B, D)` of 0s and 1s (uint8, as `u[:, d] < p` stored in
#   a uint8 array gives, or any integer, bool or float dtype).
#
# The checker runs your sampler on small random models: it compares your samples with the
# reference for the same `u`, compares the frequencies of 100,000 samples with the exact joint
# distribution (enumerated by the chain rule), and refuses any call of `conditional` that
# includes $x_d$ itself or a later value. When something is wrong it names the mistake.

# %%
import numpy as np


def ar_sample(conditional, u):
    """Ancestral sampling: x_d = 1 iff u[:, d] < conditional(x[:, :d]), for d = 0, ..., D-1."""
    ### BEGIN SOLUTION
    B, D = u.shape
    x = np.zeros((B, D), dtype=np.uint8)
    for d in range(D):
        p = conditional(x[:, :d])      # (B,): p(x_d = 1 | x_<d), sees only what is drawn
        x[:, d] = u[:, d] < p          # x_d ~ Bernoulli(p)
    return x
    ### END SOLUTION


# %%
feedback = check_ar_sampler(ar_sample)
feedback

# %% [markdown]
# Your sampler works for any autoregressive model, so let it draw digits from the FVSBN of
# this section: its conditional is one row of the masked weight matrix,
# $p(x_d = 1 \mid x_{<d}) = \sigma(b_d + \sum_{j<d} W_{dj} x_j)$. (Until your sampler passes,
# this cell uses the reference one.)

# %% mystnb={"figure": {"caption": "Sixteen FVSBN digits drawn with the ancestral sampler of Exercise 4 (the reference one until yours passes), one conditional call per pixel: 784 sequential steps.", "name": "fig-02-ar-sample-fvsbn"}, "image": {"alt": "One row of sixteen white-on-black images of blotchy, digit-like strokes, a few of them resembling a 3, a 5 or an 8."}}
W_np = (fvsbn.W * fvsbn.mask).detach().double().numpy()   # (784, 784), raster order
b_np = fvsbn.b.detach().double().numpy()                  # (784,)


def fvsbn_conditional(x_before):
    """(B, d) pixels drawn so far -> (B,) p(x_d = 1 | x_<d) = sigmoid(b_d + W[d, :d] . x_<d)."""
    d = x_before.shape[1]
    return 1 / (1 + np.exp(-(b_np[d] + x_before @ W_np[d, :d])))


calls = []                                                 # prefix widths, in call order


def counted(x_before):
    calls.append(x_before.shape[1])
    return fvsbn_conditional(x_before)


sampler = ar_sample if feedback else reference_ar_sample
u = np.random.default_rng(0).random((16, 784))            # (16, 784) uniforms
digits_drawn = sampler(counted, u)                         # (16, 784)
print(f"{len(calls)} sequential calls of the conditional to draw 16 digits of 784 pixels "
      f"(scoring them is one parallel pass: fvsbn.log_prob)")
show_images(digits_drawn, nrow=16, title="FVSBN samples drawn by ar_sample")
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-02-sampler-on-fvsbn", "claim-02-sampling-sequential", "hide-input"]
assert set(calls) == set(range(784)) and len(calls) >= 784  # one call (at least) per pixel
assert np.array_equal(digits_drawn, reference_ar_sample(fvsbn_conditional, u))

# %% [markdown]
# ## 7. Explore: patch size, order $k$ and ordering
#
# A static picture first (4×4 patches, the sweet spot AR(6), raster order), for readers
# without a kernel; then the explorer. Change the patch size (2×2 to 4×4), the AR order $k$
# and the ordering: each model's $\alpha$ is chosen again on the validation patches, and the
# table of NLLs and the samples from AR($k$) update.

# %% mystnb={"figure": {"caption": "4\u00d74 patches in raster order: train, validation and test NLL of the independent, Markov, AR(6) and full-table models, each at its chosen $\\alpha$, beside samples of AR(6). AR(6), with 703 parameters, has the lowest validation and test NLL; the full table, with 65,535 and the lowest training NLL, is 0.42 nats worse on the test patches.", "name": "fig-02-patch-result"}, "image": {"alt": "A table titled 4x4 patches, raster ordering (nats per patch), with columns model, params, alpha, train NLL, valid NLL and test NLL: independent 16, 10, 9.775, 9.798, 9.851; Markov 31, 1, 7.512, 7.530, 7.539; AR(6) 703, 1, 5.663, 5.754, 5.739; full joint 65,535, 0.01, 5.252, 6.163, 6.157. Beside it, two rows of eight black-and-white 4 by 4 patches titled samples from AR(6)."}}
draw_patch_result(ar_patch_experiment(x_train, x_test, size=4, k=best_k, ordering="raster",
                                      valid_images=x_valid))
plt.show()

# %% mystnb={"figure": {"caption": "The patch explorer, opening at 3\u00d73 patches and AR(2) in raster order; in a running notebook, change the patch size, the order $k$ and the ordering, and the table of NLLs and the AR($k$) samples update, with each model's $\\alpha$ chosen again on validation patches.", "name": "fig-02-patch-explorer"}, "image": {"alt": "A table titled 3x3 patches, raster ordering (nats per patch), with columns model, params, alpha, train NLL, valid NLL and test NLL: independent 9, 10, 5.344, 5.352, 5.381; Markov 17, 0.0001, 4.141, 4.119, 4.136; AR(2) 31, 0.32, 3.714, 3.708, 3.713; full joint 511, 0.32, 3.264, 3.341, 3.326. Beside it, two rows of eight black-and-white 3 by 3 patches titled samples from AR(2)."}} tags=["nbval-ignore-output"]
ar_patch_explorer(x_train, x_test, valid_images=x_valid)


# %% [markdown]
# ## Exercises
#
# The four exercises sit beside the ideas they practise:
#
# * **Exercise 1**, the chain rule backwards (`conditional_from_joint`): section 2, after the
#   chain rule read off the full table;
# * **Exercise 2**, the parameters of AR($k$) (`ar_params`) and **Exercise 3**, the Markov
#   log-likelihood (`markov_log_prob`): section 3, after the assumptions that cut the count;
# * **Exercise 4**, the ancestral sampler (`ar_sample`), then run on the FVSBN: end of section 6.

# %% [markdown]
# > **About these numbers**
# >
# > * The notebook runs top to bottom in well under two minutes on a 2-core CPU and needs no
# >   GPU: it fits tables, trains the FVSBN live for two short epochs, and loads the rest.
# > * Timings are processor (CPU) time on one thread, the fastest of a few repeats
# >   (`gm_helpers.analysis.timing`); they depend on the processor, their ratios less so.
# > * The FVSBN and NADE numbers come from shipped checkpoints, each with an entry in
# >   `gm_helpers/checkpoints/manifest.json` recording its training command, epochs, hardware,
# >   wall time, sha256 and measured test NLL. The FVSBN trained for 60 epochs on one CPU
# >   thread; the course's NADE (Lecture 3) for 40 epochs (132 minutes on one thread), which
# >   takes it to 87.88 nats, below the paper's 88.86.
# > * The prose of section 5 is the markdown of lectures 1-6 as of commit 201402c, written out by
# >   `python -m gm_helpers.course.corpus` and frozen (its checksum is checked on loading), so
# >   later edits of the lectures do not move section 5's numbers.

# %% [markdown]
# ## Summary
#
# * The chain rule is exact for any distribution and any order, and as tables it costs
#   $2^n - 1$, like the full joint.
# * Maximum likelihood for a table is counting; it gives unseen states probability zero.
#   Additive smoothing (α pseudo-counts) repairs that, and α must be chosen on validation
#   data, per model: with one fixed α the comparison of models can come out wrong.
# * Conditional independence can be measured: on digits, a pixel is nearly independent of the
#   pixel two to its left given the one in between (0.0045 bits left of 0.118), but not of the
#   pixel above it given its left neighbour (0.080 bits left of 0.260). That is why the Markov
#   chain in raster order is weak and AR(4) is the first big win on 4-wide patches.
# * Independence ($n$) underfits; AR($k$) trades memory for parameters; the full table
#   overfits. On 4×4 digit patches, with α chosen per model, AR(6) has the best validation
#   and test NLL; AR(4) to AR(8) are within 0.05 nats of it.
# * The order of the variables matters for every truncated model; for the chain rule itself
#   it does not (identical train NLL in all four orders above).
# * The chain rule over characters is a language model: AR($k$) over characters (an $n$-gram
#   model) on the course's prose falls from 4.81 to 2.43 bits per test character at $k = 3$
#   and overfits beyond, as contexts go unseen; at $k = 8$ its samples copy the training text.
#   An LLM keeps the chain rule and maximum likelihood, and replaces the table by a network.
# * Writing each conditional as a function instead of a table breaks the $2^k$ barrier: the
#   FVSBN models whole digits with $D(D+1)/2$ parameters, near the paper's 97.45 nats, and is
#   sampled one pixel at a time by the ancestral sampler you wrote.
#   Next: NADE, which shares parameters across the conditionals.
#
# ## References
# * B. J. Frey. *Graphical models for machine learning and digital communication.* MIT Press, 1998.
# * H. Larochelle, I. Murray. *The neural autoregressive distribution estimator.* AISTATS 2011.
# * R. M. Neal. *Connectionist learning of belief networks.* Artificial Intelligence, 1992.
# * I. Goodfellow, Y. Bengio, A. Courville. *Deep Learning*, ch. 20.10.7 (autoregressive networks).
# * T. M. Cover, J. A. Thomas. *Elements of Information Theory*, 2nd ed., ch. 2 (conditional
#   mutual information).
