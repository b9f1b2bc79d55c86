#!/usr/bin/env python3
"""Independent reference values for the noise schedules (pure Python, float64).

Written from the reference implementations' formulas, not from DiffusionLab's C#:
  linear / quad: Ho et al.'s diffusion_utils_2.get_beta_schedule (np.linspace of beta or sqrt(beta))
  sigmoid:       GeoDiff's sigmoid(np.linspace(-6, 6, T)) * (end - start) + start
  cosine, sqrt:  improved-diffusion's betas_for_alpha_bar(T, f, max_beta=0.999)
  zero terminal SNR: Lin et al. 2023, Algorithm 1.
Run: python3 make_schedule_golden.py > schedules_golden.csv
"""
import math

T = 1000
ROWS = [1, 2, 10, 100, 250, 500, 750, 999, 1000]

def linspace(a, b, n):
    return [a + (b - a) * i / (n - 1) for i in range(n)]

def betas_for_alpha_bar(n, f, max_beta=0.999):
    out = []
    for i in range(n):
        t1, t2 = i / n, (i + 1) / n
        out.append(min(1 - f(t2) / f(t1), max_beta))
    return out

def sched(name):
    if name == "linear":
        return linspace(1e-4, 0.02, T)
    if name == "quadratic":
        return [x * x for x in linspace(1e-4 ** 0.5, 0.02 ** 0.5, T)]
    if name == "sigmoid":
        return [1 / (1 + math.exp(-x)) * (0.02 - 1e-4) + 1e-4 for x in linspace(-6, 6, T)]
    if name == "cosine":
        return betas_for_alpha_bar(T, lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2)
    if name == "sqrt":
        return betas_for_alpha_bar(T, lambda t: 1 - math.sqrt(t + 0.0001))
    raise ValueError(name)

def cumprod(xs):
    out, p = [], 1.0
    for x in xs:
        p *= x
        out.append(p)
    return out

def zero_snr(betas):
    ab = cumprod([1 - b for b in betas])
    s = [math.sqrt(a) for a in ab]
    first, last = s[0], s[-1]
    s = [(x - last) * first / (first - last) for x in s]
    ab = [x * x for x in s]
    alphas = [ab[0]] + [ab[i] / ab[i - 1] for i in range(1, len(ab))]
    return [1 - a for a in alphas]

print("schedule,t,beta,alpha_bar,posterior_variance")
for name in ["linear", "quadratic", "sigmoid", "cosine", "sqrt", "linear+ztsnr"]:
    betas = zero_snr(sched("linear")) if name == "linear+ztsnr" else sched(name)
    ab = cumprod([1 - b for b in betas])
    for t in ROWS:
        prev = ab[t - 2] if t > 1 else 1.0
        post = (1 - prev) / (1 - ab[t - 1]) * betas[t - 1] if ab[t - 1] < 1 else 0.0
        print(f"{name},{t},{betas[t-1]!r},{ab[t-1]!r},{post!r}")
