#!/usr/bin/env python3
"""PyTorch peer of `difflab bench`: the same networks, the same steps, the same timing rules.

Each case mirrors src/DiffusionLab/Benchmarks/PerformanceBench.cs: untimed warm-up, then timed repeats, median/min/max.
The networks are written out here operator for operator (CS180 class U-Net, the unet preset's attention U-Net, the 2-D
residual MLP), and their parameter counts are printed so the comparison script can check they match DiffusionLab's. Needs Debian's python3-torch (CPU),
ideally with OpenBLAS' OpenMP build (apt install python3-torch libopenblas0-openmp); see benchmarks/peers/README.md.
"""
import argparse
import json
import math
import statistics
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CASES = ["matmul", "conv3x3", "train-d32", "train-d64", "guided-step-d64", "train-unet32", "guided-step-unet32", "mlp-train", "ddpm-2d",
         "ddim50-2d", "phases-d64", "phases-unet32"]


# ---------------------------------------------------------------- networks (mirrors of src/DiffusionLab/Models)

def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.GELU(),
                         nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.GELU())


def down_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1), nn.BatchNorm2d(cout), nn.GELU(), conv_block(cout, cout))


def up_block(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.GELU(), conv_block(cout, cout))


def fc_block(fin, fout):
    return nn.Sequential(nn.Linear(fin, fout), nn.GELU(), nn.Linear(fout, fout))


class Cs180ClassUNet(nn.Module):
    """Cs180UNet(Variant = Class): CS180 project 5 part B §2.4."""

    def __init__(self, d, channels=1, size=28, classes=10):
        super().__init__()
        pool = size // 4
        self.classes = classes
        self.conv_in = conv_block(channels, d)
        self.down1 = down_block(d, d)
        self.down2 = down_block(d, 2 * d)
        self.flatten = nn.Sequential(nn.AvgPool2d(pool), nn.GELU())
        self.unflatten = nn.Sequential(nn.ConvTranspose2d(2 * d, 2 * d, pool, pool, 0), nn.BatchNorm2d(2 * d), nn.GELU())
        self.up1 = up_block(4 * d, d)
        self.up2 = up_block(2 * d, d)
        self.conv_out = conv_block(2 * d, d)
        self.head = nn.Conv2d(d, channels, 3, 1, 1)
        self.fc1_t, self.fc2_t = fc_block(1, 2 * d), fc_block(1, d)
        self.fc1_c, self.fc2_c = fc_block(classes, 2 * d), fc_block(classes, d)

    def forward(self, x, t, labels):
        h0 = self.conv_in(x)
        h1 = self.down1(h0)
        h2 = self.down2(h1)
        u = self.unflatten(self.flatten(h2))
        tt = t.float().reshape(-1, 1)
        t1 = self.fc1_t(tt)[..., None, None]
        t2 = self.fc2_t(tt)[..., None, None]
        l = labels.long()
        valid = l.ge(0)
        one_hot = F.one_hot(l.clamp_min(0), self.classes).float() * valid.unsqueeze(1).float()
        c1 = self.fc1_c(one_hot)[..., None, None]
        c2 = self.fc2_c(one_hot)[..., None, None]
        u = c1 * u + t1
        v1 = self.up1(torch.cat([u, h2], 1))
        v1 = c2 * v1 + t2
        v2 = self.up2(torch.cat([v1, h1], 1))
        o = self.conv_out(torch.cat([v2, h0], 1))
        return self.head(o)


def sinusoidal(t, dim, scale=1000.0, max_period=10000.0):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = (t.float() * scale).unsqueeze(1) * freqs.unsqueeze(0)
    return torch.cat([args.cos(), args.sin()], 1)


def groups(channels):
    """DdpmUNet.Groups: 32 groups as in DDPM, but at least two channels per group (32 for every layer of the preset)."""
    g = max(1, min(32, channels // 2))
    while channels % g:
        g -= 1
    return g


class GroupNorm(nn.GroupNorm):
    """nn.GroupNorm that takes bfloat16 input under autocast. DiffusionLab's libtorch 2.10 normalises bfloat16 activations
    with the float32 affine parameters as they are (MixedPrecision); PyTorch 1.13's CPU group_norm refuses mixed types
    ("expected scalar type BFloat16 but found Float") and autocast leaves it alone, so here γ and β are cast to the input's
    type (a differentiable copy of 2·C numbers): the norm reads and writes bfloat16 activations, as DiffusionLab's does."""

    def forward(self, x):
        if x.dtype == self.weight.dtype:
            return super().forward(x)
        return F.group_norm(x, self.num_groups, self.weight.to(x.dtype), self.bias.to(x.dtype), self.eps)


def group_norm(channels):
    # DdpmUNet.NewGroupNorm: γ = 1, β = 0, PyTorch's own initialisation
    return GroupNorm(groups(channels), channels)


class DdpmAttnBlock(nn.Module):
    """DdpmUNet.AttnBlock: single-head self-attention over the H·W positions with a residual connection (Ho et al. 2020,
    App. B); the softmax in float32 (autocast's rule), the products in the compute type."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        b, _, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.channels, h * w).unbind(1)
        weights = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(self.channels), -1, dtype=torch.float32).to(v.dtype)
        o = torch.bmm(weights, v.transpose(1, 2)).transpose(1, 2).reshape(b, self.channels, h, w)
        return x + self.proj(o)


class DdpmResBlock(nn.Module):
    """DdpmUNet.ResBlock: GroupNorm → SiLU → conv, + time projection, GroupNorm → SiLU → dropout → conv, 1×1 skip when
    the channels change, then self-attention where asked."""

    def __init__(self, cin, cout, temb, dropout, attention):
        super().__init__()
        self.norm1, self.conv1 = group_norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2, self.dropout, self.conv2 = group_norm(cout), nn.Dropout(dropout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.attn = DdpmAttnBlock(cout) if attention else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        h = (x if self.skip is None else self.skip(x)) + h
        return h if self.attn is None else self.attn(h)


class DdpmResample(nn.Module):
    """DdpmUNet.Resample: a stride-2 conv, or nearest-neighbour ×2 then a conv."""

    def __init__(self, channels, down):
        super().__init__()
        self.down = down
        self.conv = nn.Conv2d(channels, channels, 3, stride=2 if down else 1, padding=1)

    def forward(self, x, emb):
        return self.conv(x if self.down else F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DdpmUNet(nn.Module):
    """DdpmUNet (Ho et al. 2020, App. B) with a class embedding (null class = the last row) added to the time embedding."""

    def __init__(self, in_channels=3, image_size=32, ch=64, ch_mult=(1, 2, 2), num_res_blocks=2, attn_resolutions=(8,), dropout=0.1,
                 num_classes=0):
        super().__init__()
        self.ch, self.num_classes = ch, num_classes
        temb = 4 * ch
        self.time_mlp = nn.Sequential(nn.Linear(ch, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.class_emb = nn.Embedding(num_classes + 1, temb) if num_classes > 0 else None
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        downs, skips, c, res = [], [ch], ch, image_size
        for level, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                downs.append(DdpmResBlock(c, ch * mult, temb, dropout, res in attn_resolutions))
                c = ch * mult
                skips.append(c)
            if level != len(ch_mult) - 1:
                downs.append(DdpmResample(c, True))
                skips.append(c)
                res //= 2
        self.down = nn.ModuleList(downs)
        self.mid1 = DdpmResBlock(c, c, temb, dropout, False)
        self.mid_attn = DdpmAttnBlock(c)
        self.mid2 = DdpmResBlock(c, c, temb, dropout, False)
        ups, self.up_takes_skip = [], []
        for level in reversed(range(len(ch_mult))):
            for _ in range(num_res_blocks + 1):
                ups.append(DdpmResBlock(c + skips.pop(), ch * ch_mult[level], temb, dropout, res in attn_resolutions))
                self.up_takes_skip.append(True)
                c = ch * ch_mult[level]
            if level != 0:
                ups.append(DdpmResample(c, False))
                self.up_takes_skip.append(False)
                res *= 2
        self.up = nn.ModuleList(ups)
        self.norm_out = group_norm(c)
        self.conv_out = nn.Conv2d(c, in_channels, 3, padding=1)

    def forward(self, x, t, labels=None):
        emb = self.time_mlp(sinusoidal(t, self.ch))
        if self.class_emb is not None:
            l = torch.full((x.shape[0],), self.num_classes, dtype=torch.long) if labels is None \
                else torch.where(labels.lt(0), torch.full_like(labels, self.num_classes), labels).long()
            emb = emb + self.class_emb(l)
        h = self.conv_in(x)
        hs = [h]
        for block in self.down:
            h = block(h, emb)
            hs.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        for takes_skip, block in zip(self.up_takes_skip, self.up):
            h = block(torch.cat([h, hs.pop()], 1) if takes_skip else h, emb)
        return self.conv_out(F.silu(self.norm_out(h))).float()  # MixedPrecision.Output: float32 out


# the unet preset as `difflab train --dataset emoji --model unet` builds it: 9 classes (the emoji categories), 3 × 32 × 32
UNET32 = dict(in_channels=3, image_size=32, ch=64, ch_mult=(1, 2, 2), num_res_blocks=2, attn_resolutions=(8,), dropout=0.1, num_classes=9)
UNET32_PARAMETERS = 6_474_755  # what DiffusionLab prints for it (and UNetTests asserts)


class ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1, self.time, self.fc2 = nn.Linear(width, width), nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, h, emb):
        return h + self.fc2(F.silu(self.fc1(F.silu(h)) + self.time(emb)))


class ToyMlp(nn.Module):
    """ToyMlp(DataDim 2, Width 128, Depth 4, TimeDim 128)."""

    def __init__(self, dim=2, width=128, depth=4, time_dim=128):
        super().__init__()
        self.time_dim = time_dim
        self.input = nn.Linear(dim, width)
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.blocks = nn.ModuleList([ResidualBlock(width) for _ in range(depth)])
        self.output = nn.Linear(width, dim)

    def forward(self, x, t, labels=None):
        emb = self.time_mlp(sinusoidal(t, self.time_dim))
        h = self.input(x)
        for b in self.blocks:
            h = b(h, emb)
        return self.output(F.silu(h))


def parameters(net):
    return sum(p.numel() for p in net.parameters())


# ---------------------------------------------------------------- diffusion pieces (DiscreteModel, Trainer, samplers)

class Schedule:
    def __init__(self, steps, beta_start=1e-4, beta_end=0.02):
        # NoiseSchedule: β_t evenly spaced over t = 1..T; index 0 is t = 0 (ᾱ_0 = 1)
        betas = torch.tensor([beta_start + (beta_end - beta_start) * (i / (steps - 1)) for i in range(steps)], dtype=torch.float64)
        ab = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)])
        self.steps = steps
        self.alpha_bar = ab.tolist()
        self.sqrt_ab = ab.sqrt().float()
        self.sqrt_1mab = (1 - ab).sqrt().float()


def extract(table, steps, like):
    return table.index_select(0, steps).reshape(-1, *([1] * (like.dim() - 1)))


def ddpm_loss(net, sched, x0, g, labels=None, p_uncond=0.0):
    """DiscreteModel.Loss: t ~ U{1..T}, ε ~ N(0, I), ‖ε − ε_θ(x_t, t/T, c)‖² with label dropout."""
    b = x0.shape[0]
    steps = torch.randint(1, sched.steps + 1, (b,), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    xt = extract(sched.sqrt_ab, steps, x0) * x0 + extract(sched.sqrt_1mab, steps, x0) * eps
    if labels is not None and p_uncond > 0:
        drop = torch.rand((b,), generator=g).lt(p_uncond)
        labels = torch.where(drop, torch.full_like(labels, -1), labels)
    out = net(xt, steps.float() / sched.steps, labels) if labels is not None else net(xt, steps.float() / sched.steps)
    return (out - eps).square().mean()


def timed_trainer_steps(net, shadow, loss, lr_at, grad_clip, ema_decay, ema_warmup, seed, warmup, repeats, per_repeat):
    """Trainer.Train's step: LR write, per-step generator and global seed, zero_grad, loss, item, backward, clip, Adam, EMA."""
    shadow.load_state_dict(net.state_dict())
    for p in shadow.parameters():
        p.requires_grad_(False)
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=lr_at(0))
    net.train()
    stamps = []
    for step in range(warmup + repeats * per_repeat):
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)
        torch.manual_seed(seed * 1_000_003 + step)
        opt.zero_grad()
        l = loss(g)
        value = l.item()
        if not math.isfinite(value):
            raise RuntimeError("diverged")
        l.backward()
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        opt.step()
        with torch.no_grad():
            d = min(ema_decay, (1.0 + step) / (10.0 + step)) if ema_warmup else ema_decay
            for e, p in zip(shadow.parameters(), net.parameters()):
                e.mul_(d).add_(p.detach(), alpha=1 - d)
            for e, b in zip(shadow.buffers(), net.buffers()):
                e.copy_(b)
        stamps.append(time.perf_counter())
    return [stamps[warmup + (r + 1) * per_repeat - 1] - stamps[warmup + r * per_repeat - 1] for r in range(repeats)]


def timed(run, warmup, repeats):
    for _ in range(warmup):
        run()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        out.append(time.perf_counter() - t)
    return out


def result(name, unit, values, lower, detail, gflops=None):
    s = sorted(values)
    return {"name": name, "unit": unit, "median": statistics.median(values), "min": s[0], "max": s[-1], "repeats": len(values),
            "lower_is_better": lower, "gflops": gflops, "percent_of_peak": None, "detail": detail}


def rate(name, unit, work, seconds, detail):
    return result(name, unit, [work / s for s in seconds], False, detail)


def per(name, unit, k, seconds, detail):
    return result(name, unit, [s / k for s in seconds], True, detail)


# ---------------------------------------------------------------- cases

def autocast(o):
    """MixedPrecision's bf16 policy is torch.autocast's: the forward pass under autocast, backward and optimizer outside."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=o.precision == "bf16")


def case_matmul(o):
    n, k = o.matmul_size, 10
    dtype = torch.bfloat16 if o.precision == "bf16" else torch.float32
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)

    def run():
        with torch.no_grad():
            for i in range(k):
                c = torch.mm(a, b)
            c.float().sum().item()
    r = rate("matmul", "GFLOP/s", 2.0 * n ** 3 * k / 1e9, timed(run, max(o.warmup, 3), o.repeats), f"{n}x{n} {o.precision}, {k} products per repeat")
    r["gflops"] = r["median"]
    return r


def case_conv(o):
    b, ch, size, k = o.train_batch, o.conv_channels, o.conv_size, 3
    x, w = torch.randn(b, ch, size, size), torch.randn(ch, ch, 3, 3) * 0.05

    def run():
        with torch.no_grad():
            for i in range(k):
                y = F.conv2d(x, w, padding=1)
            y.sum().item()
    r = rate("conv3x3", "GFLOP/s", 2.0 * b * ch * ch * 9 * size * size * k / 1e9, timed(run, o.warmup, o.repeats), f"[{b}, {ch}, {size}, {size}]")
    r["gflops"] = r["median"]
    return r


def cs180_forward_flops(d, ch=1, s=28, classes=10):
    """Cs180UNet.ForwardFlops, recomputed here."""
    pool = s / 4
    conv = lambda ci, co, side: 2 * ci * co * 9 * side * side
    tr = lambda ci, co, k, side: 2 * ci * co * k * k * side * side
    block = lambda ci, co, side: conv(ci, co, side) + conv(co, co, side)
    fc = lambda fi, fo: 2 * (fi * fo + fo * fo)
    return (block(ch, d, s) + conv(d, d, s / 2) + block(d, d, s / 2) + conv(d, 2 * d, s / 4) + block(2 * d, 2 * d, s / 4)
            + tr(2 * d, 2 * d, pool, 1) + tr(4 * d, d, 4, s / 4) + block(d, d, s / 2) + tr(2 * d, d, 4, s / 2) + block(d, d, s)
            + block(2 * d, d, s) + conv(d, ch, s) + fc(1, 2 * d) + fc(1, d) + fc(classes, 2 * d) + fc(classes, d))


def ddpm_unet_forward_flops(in_channels, image_size, ch, ch_mult, num_res_blocks, attn_resolutions, **_):
    """DdpmUNet.ForwardFlops, recomputed here: convolutions, linear layers and the two attention products (2·C·(HW)² each)."""
    conv = lambda ci, co, k, side: 2 * ci * co * k * k * side * side
    linear = lambda fi, fo: 2 * fi * fo
    attention = lambda c, side: conv(c, 3 * c, 1, side) + conv(c, c, 1, side) + 4 * c * (side * side) ** 2
    temb = 4 * ch

    def res(ci, co, side, attn):
        return (conv(ci, co, 3, side) + linear(temb, co) + conv(co, co, 3, side) + (conv(ci, co, 1, side) if ci != co else 0)
                + (attention(co, side) if attn else 0))
    flops = linear(ch, temb) + linear(temb, temb) + conv(in_channels, ch, 3, image_size)
    skips, c, side = [ch], ch, image_size
    for level, mult in enumerate(ch_mult):
        for _ in range(num_res_blocks):
            flops += res(c, ch * mult, side, side in attn_resolutions)
            c = ch * mult
            skips.append(c)
        if level != len(ch_mult) - 1:
            side //= 2
            flops += conv(c, c, 3, side)
            skips.append(c)
    flops += 2 * res(c, c, side, False) + attention(c, side)
    for level in reversed(range(len(ch_mult))):
        for _ in range(num_res_blocks + 1):
            flops += res(c + skips.pop(), ch * ch_mult[level], side, side in attn_resolutions)
            c = ch * ch_mult[level]
        if level != 0:
            side *= 2
            flops += conv(c, c, 3, side)
    return flops + conv(c, in_channels, 3, image_size)


def counted_forward_flops(net, *inputs):
    """The forward FLOPs of one call, counted by hooks on every Conv2d, Linear and attention block from the shapes they saw."""
    counted = [0.0]

    def hook(m, args, out):
        if isinstance(m, nn.Conv2d):
            counted[0] += 2.0 * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1] * out.numel()
        elif isinstance(m, nn.Linear):
            counted[0] += 2.0 * m.in_features * out.numel()
        else:  # DdpmAttnBlock: QKᵀ and weights·V
            b, c, h, w = args[0].shape
            counted[0] += 4.0 * b * c * (h * w) ** 2
    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear, DdpmAttnBlock))]
    try:
        with torch.no_grad():
            net(*inputs)
    finally:
        for h in handles:
            h.remove()
    return counted[0]


def unet32(o):
    """The unet preset's network, checked against DiffusionLab's parameter count and its FLOP count against the hooks'."""
    net = DdpmUNet(**UNET32)
    assert parameters(net) == UNET32_PARAMETERS, f"the peer's attention U-Net has {parameters(net):,} parameters, DiffusionLab's {UNET32_PARAMETERS:,}"
    flops = ddpm_unet_forward_flops(**UNET32)
    was_training = net.training
    net.eval()
    g = torch.Generator().manual_seed(0)
    counted = counted_forward_flops(net, torch.randn(1, 3, 32, 32, generator=g), torch.rand(1, generator=g), torch.tensor([3]))
    net.train(was_training)
    assert abs(counted - flops) <= 1e-9 * flops, f"forward FLOPs: analytic {flops:.6g}, counted by hooks {counted:.6g}"
    return net, flops


def layout(o, *nets):
    """--channels-last: PyTorch's recipe, model.to(memory_format=torch.channels_last) — the layout DiffusionLab's
    convolutions use where oneDNN is on (NativeRuntime.ChannelsLast); the inputs follow the weights' layout in ATen."""
    if o.channels_last:
        for net in nets:
            net.to(memory_format=torch.channels_last)
    return nets if len(nets) > 1 else nets[0]


def cs180_training(o, d):
    """What train-dD and phases-dD train (PerformanceBench's UNetTraining): the network, its EMA shadow, T = 300, a fixed batch."""
    torch.manual_seed(o.seed)
    net, shadow = layout(o, Cs180ClassUNet(d), Cs180ClassUNet(d))
    g = torch.Generator().manual_seed(o.seed)
    x = torch.rand(o.train_batch, 1, 28, 28, generator=g) * 2 - 1
    labels = torch.randint(0, 10, (o.train_batch,), generator=g)
    return net, shadow, Schedule(300), x, labels


def case_train(o, d):
    net, shadow, sched, x, labels = cs180_training(o, d)
    # the cs180-class preset: Adam 1e-3, exponential LR per epoch (constant here: no epochs), no clipping, EMA 0.999 with warm-up
    def loss(gen):
        with autocast(o):
            return ddpm_loss(net, sched, x, gen, labels, 0.1)
    seconds = timed_trainer_steps(net, shadow, loss, lambda s: 1e-3, 0.0, 0.999, True,
                                  o.seed, o.warmup, o.repeats, o.train_steps_per_repeat)
    r = rate(f"train-d{d}", "img/s", o.train_batch * o.train_steps_per_repeat, seconds, f"batch {o.train_batch}, {parameters(net):,} parameters, Adam + EMA")
    r["gflops"] = r["median"] * 3 * cs180_forward_flops(d) / 1e9
    r["parameters"] = parameters(net)
    return r


def timed_phases(o, name, net, shadow, loss, lr_at, grad_clip, ema_decay, step_flops, note, k):
    """PerformanceBench.TimedPhases: a training step timed phase by phase — forward (the loss, read back), backward, and
    the update (clipping where the recipe clips, Adam, EMA) — in seconds per step."""
    shadow.load_state_dict(net.state_dict())
    for p in shadow.parameters():
        p.requires_grad_(False)
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=lr_at(0))
    net.train()
    step = 0
    phases = {"forward": [], "backward": [], "update": []}
    for r in range(-o.warmup, o.repeats):
        f = b = u = 0.0
        for _ in range(k):
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            t0 = time.perf_counter()
            opt.zero_grad()
            with autocast(o):
                l = loss(torch.Generator().manual_seed(o.seed * 1_000_003 + step))
            l.item()
            t1 = time.perf_counter()
            l.backward()
            t2 = time.perf_counter()
            if grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            opt.step()
            with torch.no_grad():
                dec = min(ema_decay, (1.0 + step) / (10.0 + step))
                for e, p in zip(shadow.parameters(), net.parameters()):
                    e.mul_(dec).add_(p.detach(), alpha=1 - dec)
                for e, bb in zip(shadow.buffers(), net.buffers()):
                    e.copy_(bb)
            t3 = time.perf_counter()
            f, b, u, step = f + t1 - t0, b + t2 - t1, u + t3 - t2, step + 1
        if r >= 0:
            phases["forward"].append(f)
            phases["backward"].append(b)
            phases["update"].append(u)
    out = []
    for phase, factor in (("forward", 1), ("backward", 2), ("update", 0)):
        r = per(f"{name}-{phase}", "s/step", k, phases[phase], note)
        r["gflops"] = factor * step_flops / r["median"] / 1e9 if factor else None
        out.append(r)
    return out


def case_phases(o, d):
    """PerformanceBench.TrainPhases: the train-d64 step timed phase by phase (forward + loss read, backward, Adam + EMA)."""
    net, shadow, sched, x, labels = cs180_training(o, d)
    return timed_phases(o, f"phases-d{d}", net, shadow, lambda gen: ddpm_loss(net, sched, x, gen, labels, 0.1), lambda s: 1e-3, 0.0, 0.999,
                        o.train_batch * cs180_forward_flops(d), f"batch {o.train_batch}", o.train_steps_per_repeat)


def case_phases_unet32(o):
    """PerformanceBench.TrainDdpmUNetPhases: the train-unet32 step timed phase by phase (clipping + Adam + EMA in the update)."""
    net, shadow, flops, sched, x, labels = unet32_training(o)
    b = o.unet32_batch
    return timed_phases(o, "phases-unet32", net, shadow, lambda gen: ddpm_loss(net, sched, x, gen, labels, 0.1),
                        lambda s: 2e-4 * min(1.0, (s + 1) / 500), 1.0, 0.9999, b * flops, f"batch {b}", 1)


def guided_steps(o, net, sched, labels, x, g, k):
    """Seconds of each repeat of k guided DDPM steps (γ = 5, ClassGuidance's one batched call on [x; x]) after o.warmup
    steps, the ancestral noise drawn from g."""
    scale, b = 5.0, labels.shape[0]
    n_steps = o.warmup + o.repeats * k
    stride = sched.steps // n_steps
    taus = [1 + i * stride for i in range(n_steps)][::-1]
    null = torch.full_like(labels, -1)
    stamps = []
    with torch.no_grad():
        for i, t in enumerate(taus):
            prev = taus[i + 1] if i + 1 < len(taus) else 0
            steps = torch.full((b,), t, dtype=torch.long)
            b2 = torch.cat([steps, steps])
            a, s = extract(sched.sqrt_ab, b2, x), extract(sched.sqrt_1mab, b2, x)
            xx = torch.cat([x, x])
            with autocast(o):
                eps = net(xx, b2.float() / sched.steps, torch.cat([labels, null])).float()  # ClassGuidance: one batched call
            x0 = (xx - s * eps) / a
            eps_g = eps[b:] + scale * (eps[:b] - eps[b:])
            x0_g = x0[b:] + scale * (x0[:b] - x0[b:])
            ab, abp = sched.alpha_bar[t], sched.alpha_bar[prev]
            alpha, beta = ab / abp, 1 - ab / abp
            mean = math.sqrt(abp) * beta / (1 - ab) * x0_g + math.sqrt(alpha) * (1 - abp) / (1 - ab) * x
            x = mean + math.sqrt((1 - abp) / (1 - ab) * beta) * torch.randn(x.shape, generator=g) if prev > 0 else mean
            del eps_g
            x.sum().item()
            stamps.append(time.perf_counter())
    return [stamps[o.warmup + (r + 1) * k - 1] - stamps[o.warmup + r * k - 1] for r in range(o.repeats)]


def case_guided(o, d):
    torch.manual_seed(o.seed)
    net = layout(o, Cs180ClassUNet(d).eval())
    g = torch.Generator().manual_seed(o.seed)
    labels = torch.randint(0, 10, (o.guided_batch,), generator=g)
    x = torch.randn(o.guided_batch, 1, 28, 28, generator=g)
    k = 2
    seconds = guided_steps(o, net, Schedule(300), labels, x, g, k)
    r = per(f"guided-step-d{d}", "s/step", k, seconds, f"batch {o.guided_batch} (cond + uncond = {2 * o.guided_batch} per forward)")
    r["gflops"] = 2.0 * o.guided_batch * cs180_forward_flops(d) / r["median"] / 1e9
    return r


def unet32_training(o):
    """What train-unet32 and phases-unet32 train (PerformanceBench's DdpmUNetTraining): the network, its EMA shadow, its
    forward FLOPs, T = 1000, a fixed batch."""
    torch.manual_seed(o.seed)
    net, flops = unet32(o)
    net, shadow = layout(o, net, DdpmUNet(**UNET32))
    g = torch.Generator().manual_seed(o.seed)
    x = torch.rand(o.unet32_batch, 3, 32, 32, generator=g) * 2 - 1
    labels = torch.randint(0, UNET32["num_classes"], (o.unet32_batch,), generator=g)
    return net, shadow, flops, Schedule(1000), x, labels


def case_train_unet32(o):
    """PerformanceBench.TrainDdpmUNet: Trainer steps of the unet preset's attention U-Net on a fixed batch, one per repeat."""
    net, shadow, flops, sched, x, labels = unet32_training(o)
    b = o.unet32_batch
    # the unet preset: Adam 2e-4 after a 500-step linear warm-up (constant after), clipping at 1, EMA 0.9999 with warm-up,
    # label dropout 0.1; its random flips belong to data loading, which is not timed (a fixed batch, as in DiffusionLab)
    def loss(gen):
        with autocast(o):
            return ddpm_loss(net, sched, x, gen, labels, 0.1)
    k = 1
    seconds = timed_trainer_steps(net, shadow, loss, lambda s: 2e-4 * min(1.0, (s + 1) / 500), 1.0, 0.9999, True,
                                  o.seed, o.warmup, o.repeats, k)
    r = rate("train-unet32", "img/s", b * k, seconds, f"batch {b}, {parameters(net):,} parameters, Adam + clip + EMA")
    r["gflops"] = r["median"] * 3 * flops / 1e9
    r["parameters"] = parameters(net)
    return r


def case_guided_unet32(o):
    """PerformanceBench.GuidedDdpmUNetStep: guided DDPM steps of the attention U-Net, T = 1000, one per repeat, in images × steps/s."""
    torch.manual_seed(o.seed)
    net, flops = unet32(o)
    net = layout(o, net.eval())
    b = o.unet32_batch
    g = torch.Generator().manual_seed(o.seed)
    labels = torch.randint(0, UNET32["num_classes"], (b,), generator=g)
    x = torch.randn(b, 3, 32, 32, generator=g)
    k = 1
    seconds = guided_steps(o, net, Schedule(1000), labels, x, g, k)
    r = rate("guided-step-unet32", "img·steps/s", b * k, seconds, f"batch {b} (cond + uncond = {2 * b} per forward)")
    r["gflops"] = r["median"] * 2 * flops / 1e9
    r["parameters"] = parameters(net)
    return r


def case_mlp(o):
    torch.manual_seed(o.seed)
    net, shadow = ToyMlp(), ToyMlp()
    sched = Schedule(1000)
    data = torch.randn(100_000, 2)
    n, b, k = data.shape[0], o.mlp_batch, 20

    def lr_at(step):  # TrainingOptions defaults: 1e-3, 200 warm-up steps, cosine over 10,000 steps
        if step < 200:
            return 1e-3 * (step + 1) / 200
        p = (step - 200) / (10_000 - 200)
        return 1e-3 * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(p, 1))))
    loss = lambda gen: ddpm_loss(net, sched, data.index_select(0, torch.randint(0, n, (b,), generator=gen)), gen)
    seconds = timed_trainer_steps(net, shadow, loss, lr_at, 1.0, 0.999, False, o.seed, o.warmup, o.repeats, k)
    r = rate("mlp-train", "steps/s", k, seconds, f"batch {b}, {parameters(net):,} parameters, Adam + EMA")
    r["parameters"] = parameters(net)
    return r


def case_toy_sampling(o, ddim):
    torch.manual_seed(o.seed)
    net = ToyMlp().eval()
    sched = Schedule(o.toy_steps)
    noise = torch.randn(o.points, 2, generator=torch.Generator().manual_seed(o.seed))
    n_steps = min(50, sched.steps) if ddim else sched.steps
    stride = sched.steps // n_steps
    taus = [1 + i * stride for i in range(n_steps)][::-1]

    def run():
        g = torch.Generator().manual_seed(o.seed)
        x = noise
        with torch.no_grad():
            for i, t in enumerate(taus):
                prev = taus[i + 1] if i + 1 < len(taus) else 0
                steps = torch.full((x.shape[0],), t, dtype=torch.long)
                a, s = extract(sched.sqrt_ab, steps, x), extract(sched.sqrt_1mab, steps, x)
                eps = net(x, steps.float() / sched.steps)
                x0 = (x - s * eps) / a
                ab, abp = sched.alpha_bar[t], sched.alpha_bar[prev]
                if ddim:  # DdimSampler, η = 0 (eq. 12)
                    x = math.sqrt(abp) * x0 + math.sqrt(max(1 - abp, 0)) * eps
                else:     # DdpmSampler.Step: posterior mean + β̃ noise
                    alpha, beta = ab / abp, 1 - ab / abp
                    mean = math.sqrt(abp) * beta / (1 - ab) * x0 + math.sqrt(alpha) * (1 - abp) / (1 - ab) * x
                    x = mean + math.sqrt((1 - abp) / (1 - ab) * beta) * torch.randn(x.shape, generator=g) if prev > 0 else mean
        x.sum().item()
    return per("ddim50-2d" if ddim else "ddpm-2d", "s/run", 1, timed(run, o.warmup, o.repeats), f"{o.points} points, {n_steps} steps")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", default=None)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16: the U-Net cases under torch.autocast(bfloat16), the matmul peak in bf16")
    p.add_argument("--mkldnn", choices=["on", "off"], default="on", help="torch.backends.mkldnn.enabled (PyTorch's default: on)")
    p.add_argument("--channels-last", action="store_true", help="the U-Nets in channels-last memory format (model.to(memory_format=torch.channels_last))")
    o = p.parse_args()
    o.matmul_size, o.train_batch, o.conv_channels, o.conv_size = 1024, 128, 64, 28
    o.guided_batch, o.train_steps_per_repeat, o.points, o.mlp_batch, o.toy_steps = 100, 3, 2000, 1024, 1000
    o.unet32_batch = 64
    torch.set_num_threads(o.threads)
    torch.backends.mkldnn.enabled = o.mkldnn == "on"
    only = o.only.split(",") if o.only else CASES
    for c in only:
        if c not in CASES:
            sys.exit(f"unknown case {c}")
    print(f"torch {torch.__version__}: threads {torch.get_num_threads()}, mkldnn {'on' if torch.backends.mkldnn.enabled else 'off'}; "
          f"median [min - max] of {o.repeats} repeats after {o.warmup} warm-up; {o.precision}{'; channels-last' if o.channels_last else ''}", flush=True)
    results, peak = [], None
    if "matmul" in only or any(c.startswith(("train", "guided", "phases")) for c in only):
        m = case_matmul(o)
        peak = m["gflops"]
        if "matmul" in only:
            results.append(m)
            print(fmt(m), flush=True)
    for c in only:
        r = {"conv3x3": lambda: case_conv(o), "train-d32": lambda: case_train(o, 32), "train-d64": lambda: case_train(o, 64),
             "guided-step-d64": lambda: case_guided(o, 64), "train-unet32": lambda: case_train_unet32(o),
             "guided-step-unet32": lambda: case_guided_unet32(o), "mlp-train": lambda: case_mlp(o),
             "ddpm-2d": lambda: case_toy_sampling(o, False), "ddim50-2d": lambda: case_toy_sampling(o, True),
             "phases-d64": lambda: case_phases(o, 64), "phases-unet32": lambda: case_phases_unet32(o)}.get(c)
        if r is None:
            continue
        for r in (lambda v: v if isinstance(v, list) else [v])(r()):
            if r["gflops"] is not None and peak and c != "conv3x3":
                r["percent_of_peak"] = 100 * r["gflops"] / peak
            results.append(r)
            print(fmt(r), flush=True)
    if o.json:
        with open(o.json, "w") as f:
            json.dump({"implementation": f"PyTorch {torch.__version__}", "threads": torch.get_num_threads(),
                       "mkldnn": torch.backends.mkldnn.enabled, "precision": o.precision, "channels_last": o.channels_last, "results": results}, f, indent=2)


def fmt(r):
    s = f"{r['name']:<16} {r['median']:9.4g} {r['unit']:<8} [{r['min']:.4g} - {r['max']:.4g}]"
    if r.get("percent_of_peak") is not None:
        s += f"  {r['gflops']:.1f} GFLOP/s = {r['percent_of_peak']:.0f} % of matmul peak"
    return s + f"  ({r['detail']})"


if __name__ == "__main__":
    main()
