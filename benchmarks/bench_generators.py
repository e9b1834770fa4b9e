"""Generators: loop overhead, sampling throughput, and the quality figures of issue 4.

    python benchmarks/bench_generators.py                       # everything (~8 minutes on 2 cores)
    python benchmarks/bench_generators.py --only overhead       # or: text, image (comma-separated)
    python benchmarks/bench_generators.py --budget 170 --out results.json --grid samples.png

- overhead: per-step training time of ``fit_job`` against a bare torch loop over the same model,
  batches, loss and optimiser (same process, interleaved, median of several runs). Target: at
  most 5 % slower.
- text: ``char_gru`` trained through ``train_job`` on a 3,000-text corpus (built here, seeded;
  see :func:`make_corpus`) for at most ``--budget`` seconds; validation bits per character
  against a unigram model of the training split on the same held-out texts; share of sampled
  words that are words of the training vocabulary; how often a naive Bayes classifier trained on
  the real texts labels samples with the class they were asked for (chance: 20 %).
- image: ``conv_vae`` trained through ``train_job`` on 600 scikit-learn digits (60 per class,
  8x8 upscaled to 32x32) for at most ``--budget`` seconds; a small CNN trained on the same 600
  real images labels 100 samples per requested class (chance: 10 %). Needs scikit-learn (for the
  bundled digits); skipped with a message without it.

Everything is seeded; timings vary with the machine and its load (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from typing import Any

import numpy as np

from genaug_desktop.core.generators import get_generator, sample_job, train_job
from genaug_desktop.core.generators.base import TrainingData, derive_seed
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store import init_project_job

CLASSES = ("sports", "weather", "food", "tech", "travel")

# ---- the text corpus -------------------------------------------------------------------------------------
_WORDS: dict[str, list[str]] = {
    "city": ["Boston", "Denver", "Seattle", "Austin", "Chicago", "Madrid", "Lisbon", "Oslo", "Dublin", "Toronto",
             "Miami", "Portland", "Vienna", "Prague", "Sydney", "Tokyo"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "month": ["March", "April", "May", "June", "July", "August", "September", "October", "December"],
    "team": ["Hawks", "Tigers", "Rovers", "Giants", "Comets", "Rangers", "Bears", "Sharks", "Wolves", "Pilots"],
    "player": ["Garcia", "Okafor", "Nilsson", "Murphy", "Tanaka", "Rossi", "Dubois", "Kowalski", "Silva", "Baker"],
    "game_adj": ["a tense", "a sloppy", "a thrilling", "a physical", "a slow", "an exciting", "a wild"],
    "period": ["half", "quarter", "period", "inning"],
    "sky": ["clear", "cloudy", "grey", "sunny", "hazy", "overcast", "stormy"],
    "precip": ["rain", "snow", "sleet", "hail", "drizzle", "fog"],
    "cold": ["cold", "bitter", "chilly", "strong", "gusty", "icy", "warm", "dry"],
    "direction": ["north", "south", "east", "west", "coast", "mountains"],
    "time": ["morning", "afternoon", "evening", "weekend", "week"],
    "dish": ["pasta", "ramen", "burger", "curry", "pizza", "salad", "steak", "tacos", "soup", "dumplings",
             "risotto", "sushi", "pancakes", "fried rice"],
    "dessert": ["cheesecake", "ice cream", "apple pie", "tiramisu", "brownie", "lemon tart"],
    "food_adj": ["delicious", "bland", "salty", "fresh", "cold", "greasy", "perfect", "spicy", "overcooked"],
    "service": ["friendly", "slow", "rude", "helpful", "busy", "attentive", "kind"],
    "device": ["phone", "laptop", "tablet", "smartwatch", "router", "camera", "headset", "speaker", "monitor"],
    "brand": ["Acme", "Nimbus", "Vertex", "Orbit", "Pixelon", "Zenith"],
    "spec": ["bright", "sharp", "dim", "huge", "tiny", "curved", "glossy"],
    "component": ["battery", "charger", "keyboard", "speaker", "fan", "hinge", "screen", "microphone"],
    "app": ["camera", "music", "fitness", "mail", "banking", "weather", "photo"],
    "tech_adv": ["smoothly", "slowly", "fine", "badly", "perfectly", "well"],
    "update": ["latest", "spring", "security", "last", "new"],
    "pos": ["great", "lovely", "wonderful", "fantastic", "decent", "nice", "solid"],
    "neg": ["terrible", "awful", "disappointing", "poor", "bad", "noisy"],
    "room": ["hotel", "hostel", "apartment", "cabin", "room", "guesthouse"],
    "travel_adj": ["crowded", "quiet", "comfortable", "late", "fast", "scenic", "clean"],
    "when": ["soon", "next week", "again", "for sure", "with friends"],
}
_TEMPLATES: dict[str, list[str]] = {
    "sports": [
        "The {team} beat the {team} {a} to {b} in {game_adj} game on {day}.",
        "{player} scored {n} points and the crowd went wild.",
        "The coach said the defense played {pos} in the second {period}.",
        "What a {pos} match! The {team} never gave up.",
        "The {team} lost again and {player} was hurt in the first {period}.",
        "Tickets for the {team} game in {city} are sold out.",
        "{player} missed a penalty late in the {period}.",
        "Fans in {city} waited hours to see the {team} play.",
        "The referee made a {neg} call and the {team} paid for it.",
    ],
    "weather": [
        "Expect {sky} skies over {city} this {time} with highs near {n} degrees.",
        "Heavy {precip} is coming to {city} on {day}, so bring an umbrella.",
        "A {cold} wind will blow from the {direction} on {day} night.",
        "It was {n} degrees and {sky} in {city} today.",
        "The forecast for the {time} calls for {precip} and {sky} skies.",
        "Roads near the {direction} may freeze after the {precip} tonight.",
        "{city} had its {neg} storm in years on {day}.",
        "Temperatures will drop to {n} degrees by {day} {time}.",
    ],
    "food": [
        "The {dish} at this place was {food_adj} and the staff were {service}.",
        "We ordered {dish} and {dish}, both were {food_adj}.",
        "Too {food_adj} for my taste, but the {dessert} saved the night.",
        "Best {dish} in {city}, I will come back {when}.",
        "The waiter was {service} and the {dessert} was {food_adj}.",
        "A {pos} little spot with {food_adj} {dish} and fair prices.",
        "We waited {n} minutes for cold {dish}, {neg} service.",
        "Try the {dish} with extra sauce, it is {food_adj}.",
    ],
    "tech": [
        "The new {device} has a {spec} screen and the battery lasts {n} hours.",
        "My {device} keeps crashing after the {update} update.",
        "{brand} finally fixed the {component} on the {device}.",
        "Setup took {n} minutes and the {app} app works {tech_adv}.",
        "The {component} on this {device} feels cheap and {neg}.",
        "For the price, the {brand} {device} is a {pos} deal.",
        "After the {update} update the {app} app runs {tech_adv}.",
        "I returned the {device} because the {component} stopped working.",
    ],
    "travel": [
        "Our flight to {city} was delayed {n} hours but the {room} was {pos}.",
        "We spent {n} days walking around the old town of {city}.",
        "The train from {city} to {city} was {travel_adj} and cheap.",
        "Book the {room} early if you visit {city} in {month}.",
        "The bus to the airport was {travel_adj} and took {n} minutes.",
        "{city} in {month} is {pos}, but the {room} was {travel_adj}.",
        "Our guide in {city} was {service} and knew every street.",
        "We rented a car and drove along the {direction} for {n} days.",
    ],
}
_SHARED = ["Honestly, I did not expect that.", "Overall a {pos} day.", "Not {neg} at all.", "I would say it was {pos}.",
           "My friends agreed with me.", "Can not wait for {day}."]


def _fill(template: str, rng: np.random.Generator) -> str:
    used: set[str] = set()

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in ("a", "b"):
            return str(int(rng.integers(0, 6)))
        if key == "n":
            return str(int(rng.integers(2, 40)))
        choices = [w for w in _WORDS[key] if w not in used]  # "the Hawks beat the Hawks" would be silly
        word = choices[int(rng.integers(len(choices)))]
        used.add(word)
        return word

    text = re.sub(r"\{(\w+)\}", one, template)
    return text[0].upper() + text[1:]


def make_corpus(n: int = 3000, seed: int = 0) -> list[tuple[str, str]]:
    """*n* short English texts in 5 classes (n/5 each), made from 41 class templates with slots
    filled from 210 slot words (places, days, teams, dishes, devices, adjectives, numbers; some
    lists, e.g. cities and adjectives, are shared by several classes; 372 distinct words in all),
    one or two sentences each, sometimes with a class-neutral sentence added. Seeded, so every run builds the same corpus."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = CLASSES[i % len(CLASSES)]
        templates = _TEMPLATES[label]
        parts = [_fill(templates[int(rng.integers(len(templates)))], rng)]
        if rng.random() < 0.35:
            parts.append(_fill(templates[int(rng.integers(len(templates)))], rng))
        if rng.random() < 0.2:
            parts.append(_fill(_SHARED[int(rng.integers(len(_SHARED)))], rng))
        rows.append((" ".join(parts), label))
    order = rng.permutation(n)
    return [rows[i] for i in order]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


class NaiveBayes:
    """Multinomial naive Bayes on lower-case words, Laplace smoothing."""

    def __init__(self, texts: list[str], labels: list[str]) -> None:
        self.classes = sorted(set(labels))
        self.vocab = sorted({w for t in texts for w in words(t)})
        index = {w: i for i, w in enumerate(self.vocab)}
        counts = np.ones((len(self.classes), len(self.vocab)))
        prior = np.zeros(len(self.classes))
        for t, lab in zip(texts, labels, strict=True):
            c = self.classes.index(lab)
            prior[c] += 1
            for w in words(t):
                counts[c, index[w]] += 1
        self.log_prior = np.log(prior / prior.sum())
        self.log_p = np.log(counts / counts.sum(axis=1, keepdims=True))
        self.index = index

    def predict(self, text: str) -> str:
        score = self.log_prior.copy()
        for w in words(text):
            if w in self.index:
                score += self.log_p[:, self.index[w]]
        return self.classes[int(np.argmax(score))]


def unigram_bits(train: list[str], test: list[str]) -> float:
    """Cross-entropy (bits per character, end-of-text counted as one) of a unigram model of *train*."""
    counts = Counter(c for t in train for c in t)
    counts["<end>"] = len(train)
    alphabet = set(counts) | {c for t in test for c in t}
    total = sum(counts.values()) + len(alphabet)
    logp = {c: math.log2((counts.get(c, 0) + 1) / total) for c in alphabet}
    bits = [-logp[c] for t in test for c in t] + [-logp["<end>"]] * len(test)
    return float(np.mean(bits))


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# ---- overhead --------------------------------------------------------------------------------------------
def bench_overhead(name: str, data: TrainingData, values: dict[str, Any], reps: int) -> dict[str, Any]:
    """Seconds per step: fit_job against a bare loop on the same model, batches and optimiser."""
    import torch

    from genaug_desktop.core.generators.base import configure_torch, pick_device

    configure_torch()
    device = pick_device()
    values = {**values, "val_fraction": 0.0}

    def ours() -> tuple[float, int]:
        gen = get_generator(name)()
        marks: list[tuple[float, int]] = []
        job = gen.fit_job(data, values, seed=0)
        while True:
            try:
                p = next(job)
            except StopIteration as stop:
                end = time.perf_counter()
                steps = stop.value.steps
                break
            if isinstance(p.payload, dict) and p.payload["phase"] == "train" and not marks:
                marks.append((time.perf_counter(), p.payload["step"]))
        t0, s0 = marks[0]
        return (end - t0) / (steps - s0), steps - s0

    def bare() -> tuple[float, int]:
        gen = get_generator(name)()
        validated = gen.params.validate(values, "$")
        labels = data.labels
        gen.config = {"params": validated, "labels": labels, "class_counts": [1] * len(labels), "seed": 0,
                      "training": {}, "model": {}}
        gen.config["model"] = gen._model_config(data, validated)
        encoded = gen._encode(data, validated)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(0, "init") & ((1 << 63) - 1))
            model = gen._build_model().to(device)
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=validated["learning_rate"])
        rng = torch.Generator(device=device).manual_seed(1)
        n = len(encoded)
        bs = min(validated["batch_size"], n)
        plan = []  # exactly the batches fit_job sees (same split, order and length bucketing)
        train_idx = torch.from_numpy(np.random.Generator(np.random.PCG64(derive_seed(0, "split"))).permutation(n))
        for epoch in range(validated["epochs"]):
            g = torch.Generator().manual_seed(derive_seed(0, "epoch", epoch) & ((1 << 63) - 1))
            perm = gen._arrange(encoded, train_idx[torch.randperm(n, generator=g)], bs, g)
            plan += [perm[i : i + bs] for i in range(0, n, bs)]
        t0 = None
        for i, idx in enumerate(plan):
            if i == 1:
                t0 = time.perf_counter()
            batch = gen._batch(encoded, idx, device)  # a bare loop must cut its batches too
            loss, _ = gen._loss(model, batch, rng)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if gen.clip_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), gen.clip_grad_norm)
            opt.step()
        return (time.perf_counter() - t0) / (len(plan) - 1), len(plan) - 1

    ours()  # warm-up (first-call allocations, lazy init)
    bare()
    ours_times, bare_times = [], []
    for _ in range(reps):
        b, steps = bare()
        o, _ = ours()
        bare_times.append(b)
        ours_times.append(o)
    o, b = statistics.median(ours_times), statistics.median(bare_times)
    return {
        "generator": name, "steps_timed": steps, "reps": reps, "bare_ms_per_step": round(b * 1000, 2),
        "fit_job_ms_per_step": round(o * 1000, 2), "overhead_pct": round((o / b - 1) * 100, 2),
        "overhead_pct_of_fastest_runs": round((min(ours_times) / min(bare_times) - 1) * 100, 2),
        "bare_all_ms": [round(x * 1000, 2) for x in bare_times], "fit_job_all_ms": [round(x * 1000, 2) for x in ours_times],
        "torch_threads": torch.get_num_threads(), "device": device,
    }


# ---- text quality ------------------------------------------------------------------------------------------
def bench_text(tmp: str, budget: float, seed: int = 0) -> dict[str, Any]:
    corpus = make_corpus(3000, seed)
    path = os.path.join(tmp, "corpus.jsonl")
    with open(path, "w", encoding="utf-8") as fh:
        for text, label in corpus:
            fh.write(json.dumps({"text": text, "label": label}) + "\n")
    project = run_job(init_project_job(os.path.join(tmp, "text.genaug"), path))
    try:
        items = project.items()  # the order train_job sees, so the validation split below is the same
        texts, labels = [i.text or "" for i in items], [i.label or "" for i in items]
        values = {"epochs": 100_000, "max_seconds": budget}
        t0 = time.perf_counter()
        result = run_job(train_job(project, "char_gru", values, seed=seed))
        train_s = time.perf_counter() - t0
        n = len(texts)
        order = np.random.Generator(np.random.PCG64(derive_seed(seed, "split"))).permutation(n)
        n_val = int(round(n * 0.1))
        val_idx, train_idx = order[:n_val], order[n_val:]
        train_texts = [texts[i] for i in train_idx]
        val_texts = [texts[i] for i in val_idx]
        unigram = unigram_bits(train_texts, val_texts)
        nb = NaiveBayes(train_texts, [labels[i] for i in train_idx])
        nb_real = float(np.mean([nb.predict(texts[i]) == labels[i] for i in val_idx]))
        vocab = {w for t in train_texts for w in words(t)}
        train_set = set(texts)
        out: dict[str, Any] = {
            "texts": n, "classes": len(CLASSES), "vocabulary_words": len(vocab),
            "train_seconds": round(train_s, 1), "epochs": result.fit.epochs, "steps": result.fit.steps,
            "stopped_by": result.fit.stopped_by,
            "val_bits_per_char": round(result.fit.metrics["val_bits_per_char"], 3),
            "unigram_bits_per_char": round(unigram, 3), "naive_bayes_on_real_held_out": round(nb_real, 3),
            "sampling": [],
        }
        for temperature, top_p in ((1.0, 1.0), (0.8, 0.95)):
            t0 = time.perf_counter()
            per_class = 100
            ids: list[int] = []
            for k, label in enumerate(CLASSES):
                res = run_job(sample_job(project, "char_gru", n=per_class, seed=1000 + k, label=label,
                                         temperature=temperature, options={"top_p": top_p}))
                ids += res.candidate_ids
            sample_s = time.perf_counter() - t0
            wanted = set(ids)
            cands = [c for c in project.candidates(origin="generator") if c.id in wanted]
            sampled_words = [w for c in cands for w in words(c.text or "")]
            out["sampling"].append({
                "temperature": temperature, "top_p": top_p, "samples": len(cands),
                "seconds": round(sample_s, 2), "samples_per_s": round(len(cands) / sample_s, 1),
                "real_word_share": round(float(np.mean([w in vocab for w in sampled_words])), 4),
                "naive_bayes_accuracy": round(float(np.mean([nb.predict(c.text or "") == c.label for c in cands])), 3),
                "chance": 1 / len(CLASSES),
                "copies_of_training_texts": round(float(np.mean([c.text in train_set for c in cands])), 3),
                "examples": {lab: next(c.text for c in cands if c.label == lab) for lab in CLASSES},
            })
        return out
    finally:
        project.close()


# ---- image quality -----------------------------------------------------------------------------------------
def digits_32() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """600 training digits (the first 60 of each class) and the other 1,197 as held-out, 32x32 uint8."""
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    images = [np.asarray(Image.fromarray((x * (255 / 16)).round().astype(np.uint8)).resize((32, 32), Image.Resampling.BICUBIC))
              for x in d.images]
    images = np.stack(images)
    train = np.zeros(len(images), bool)
    for c in range(10):
        train[np.flatnonzero(d.target == c)[:60]] = True
    return images[train], d.target[train], images[~train], d.target[~train]


def train_classifier(x: np.ndarray, y: np.ndarray, seed: int = 0) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10),
    )
    xt = torch.from_numpy(x).float().div(255).unsqueeze(1)
    yt = torch.from_numpy(y).long()
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(40):
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 64):
            idx = perm[i : i + 64]
            # small random shifts, so the classifier does not just memorise pixel positions
            shift = torch.randint(-2, 3, (2,), generator=g).tolist()
            batch = torch.roll(xt[idx], shifts=shift, dims=(2, 3))
            loss = nn.functional.cross_entropy(net(batch), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    return net


def classify(net: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return net(torch.from_numpy(x).float().div(255).unsqueeze(1)).argmax(1).numpy()


def _spread(images: np.ndarray) -> float:
    """Mean pixel distance (RMS, 0-255) between the images of a set and the set's mean image."""
    x = images.reshape(len(images), -1).astype(np.float64)
    return float(np.mean(np.sqrt(np.mean((x - x.mean(axis=0)) ** 2, axis=1))))


def bench_image(tmp: str, budget: float, grid: str | None, seed: int = 0) -> dict[str, Any]:
    from PIL import Image

    from genaug_desktop.core.policy import decode_png

    x_train, y_train, x_test, y_test = digits_32()
    root = os.path.join(tmp, "digits")
    for i, (img, label) in enumerate(zip(x_train, y_train, strict=True)):
        os.makedirs(os.path.join(root, str(label)), exist_ok=True)
        Image.fromarray(img).save(os.path.join(root, str(label), f"{i:04d}.png"))
    project = run_job(init_project_job(os.path.join(tmp, "digits.genaug"), root))
    try:
        t0 = time.perf_counter()
        result = run_job(train_job(project, "conv_vae", {"epochs": 100_000, "max_seconds": budget}, seed=seed))
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        net = train_classifier(x_train, y_train, seed)
        clf_s = time.perf_counter() - t0
        out: dict[str, Any] = {
            "train_images": int(len(x_train)), "train_seconds": round(train_s, 1), "epochs": result.fit.epochs,
            "steps": result.fit.steps, "stopped_by": result.fit.stopped_by,
            "val_loss_nats_per_image": round(result.fit.val_loss or float("nan"), 2),
            "classifier_seconds": round(clf_s, 1),
            "classifier_accuracy_on_real_held_out": round(float(np.mean(classify(net, x_test) == y_test)), 3),
            "sampling": [],
        }
        rows = []
        for temperature in (1.0, 0.7):
            t0 = time.perf_counter()
            ids: list[int] = []
            for c in range(10):
                res = run_job(sample_job(project, "conv_vae", n=100, seed=2000 + c, label=str(c), temperature=temperature))
                ids += res.candidate_ids
            sample_s = time.perf_counter() - t0
            wanted = set(ids)
            cands = [c for c in project.candidates(origin="generator") if c.id in wanted]
            imgs = np.stack([decode_png(open(project.blob_file(c.blob), "rb").read()) for c in cands])
            want = np.array([int(c.label) for c in cands])
            got = classify(net, imgs)
            per_class = {str(c): round(float(np.mean(got[want == c] == c)), 2) for c in range(10)}
            diversity = float(np.mean([_spread(imgs[want == c]) / _spread(x_train[y_train == c]) for c in range(10)]))
            out["sampling"].append({
                "temperature": temperature, "samples": len(cands), "seconds": round(sample_s, 2),
                "samples_per_s": round(len(cands) / sample_s, 1),
                "classifier_accuracy": round(float(np.mean(got == want)), 3), "chance": 0.1, "per_class": per_class,
                "spread_vs_real": round(diversity, 2),
            })
            rows.append(np.concatenate([np.concatenate(list(imgs[want == c][:8]), axis=1) for c in range(10)], axis=0))
        if grid:
            Image.fromarray(np.concatenate(rows, axis=1)).save(grid)
            out["grid"] = grid
        return out
    finally:
        project.close()


def raw_sampling(tmp: str) -> dict[str, Any]:
    """gen.sample alone (no database, no PNG), for the throughput of the models themselves."""
    out = {}
    for name, data, values, n, kw in (
        ("char_gru", TrainingData.from_texts([t for t, _ in make_corpus(200)], [lab for _, lab in make_corpus(200)]),
         {"epochs": 1}, 512, {"max_length": 120}),
        ("conv_vae", TrainingData.from_arrays([np.zeros((32, 32), np.uint8)] * 20, [str(i % 10) for i in range(20)]),
         {"epochs": 1}, 2048, {}),
    ):
        gen = get_generator(name)()
        run_job(gen.fit_job(data, values, seed=0))
        gen.sample(8, 0, **kw)
        t0 = time.perf_counter()
        gen.sample(n, 1, **kw)
        out[name] = {"samples": n, "samples_per_s": round(n / (time.perf_counter() - t0), 1), **kw}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="overhead,sampling,text,image")
    parser.add_argument("--budget", type=float, default=170.0, help="training seconds for each quality run")
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions of the overhead timing")
    parser.add_argument("--out", help="also write the results as JSON here")
    parser.add_argument("--grid", help="save a grid of image samples (8 per class, both temperatures) here")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_at_start": load_average()}
    tmp = tempfile.mkdtemp(prefix="genaug-bench-gen-")
    try:
        if "overhead" in parts:
            corpus = make_corpus(3000)
            text = TrainingData.from_texts([t for t, _ in corpus], [lab for _, lab in corpus])
            report["overhead"] = [bench_overhead("char_gru", text, {"epochs": 1}, args.reps)]
            # The same with a model so small that a step costs almost nothing: the difference per
            # step is then the loop's own cost in absolute terms, much less at the mercy of noise.
            tiny = bench_overhead("char_gru", text, {"epochs": 1, "hidden": 16, "embedding": 4}, args.reps)
            tiny["generator"] = "char_gru (hidden=16, embedding=4)"
            tiny["loop_cost_ms_per_step"] = round(tiny["fit_job_ms_per_step"] - tiny["bare_ms_per_step"], 3)
            report["overhead"].append(tiny)
            try:
                x, y, _, _ = digits_32()
                images = TrainingData.from_arrays(list(x), [str(v) for v in y])
                report["overhead"].append(bench_overhead("conv_vae", images, {"epochs": 10}, args.reps))
            except ImportError:
                print("image overhead skipped: scikit-learn is not installed (pip install scikit-learn)")
            print(json.dumps(report["overhead"], indent=2), flush=True)
        if "sampling" in parts:
            report["raw_sampling"] = raw_sampling(tmp)
            print(json.dumps(report["raw_sampling"], indent=2), flush=True)
        if "text" in parts:
            report["text"] = bench_text(tmp, args.budget)
            print(json.dumps(report["text"], indent=2), flush=True)
        if "image" in parts:
            try:
                report["image"] = bench_image(tmp, args.budget, args.grid)
                print(json.dumps(report["image"], indent=2), flush=True)
            except ImportError:
                print("image quality skipped: scikit-learn is not installed (pip install scikit-learn)")
        report["load_average_at_end"] = load_average()
        if args.out:
            with open(args.out, "w", encoding="utf-8") as fh:
                json.dump(report, fh, indent=2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
