import sys, time, torch
sys.path.insert(0, "tools/train"); sys.path.insert(0, "tools")
from gitrain import recipe, data
print("threads", torch.get_num_threads(), flush=True)
a = dict(width=16, guide=1, d_width=32, input_fill="guided_pushpull", residual=True, d_blur=True, d_gray=True)
g, d = recipe.make_nets(16, 1, d_width=32, device="cuda", input_fill="guided_pushpull", residual=True, d_blur=True, d_gray=True)
opt_g, opt_d = recipe.make_optimizers(g, d)
torch.backends.cudnn.benchmark = True
ds = data.PhotoCrops(".gpu-data/train", crop=256, guide_keep=0.7, box_prob=0.5, guide_shift=0.5, seed=1)
import numpy as np
rng = np.random.default_rng(0)
t = time.time(); s = [ds.sample(rng) for _ in range(32)]; print("sample 32", time.time() - t, flush=True)
batch = [torch.stack(x).cuda() for x in zip(*s)]
for name, cfg in (("l1", recipe.LossConfig(gan_weight=0, coarse_l1_only=True)), ("gan", recipe.LossConfig(coarse_l1_only=True)),
                  ("tex", recipe.LossConfig(coarse_l1_only=True, texture_weight=30, lattice_weight=100))):
    for i in range(3): recipe.train_step(g, d, opt_g, opt_d, batch, cfg)
    torch.cuda.synchronize(); t = time.time()
    for i in range(5): recipe.train_step(g, d, opt_g, opt_d, batch, cfg)
    torch.cuda.synchronize(); print(name, "step s", (time.time() - t) / 5, flush=True)
with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]) as prof:
    recipe.train_step(g, d, opt_g, opt_d, batch, cfg); torch.cuda.synchronize()
print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=15), flush=True)
print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=12), flush=True)
