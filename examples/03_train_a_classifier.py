"""Train a small CNN on the embedded MNIST digits and report its accuracy on the held-out split.

    python examples/03_train_a_classifier.py              # 10 epochs, a few minutes on 2 CPU cores
    python examples/03_train_a_classifier.py --small      # a few steps, a smoke test
    python examples/03_train_a_classifier.py --data-dir ~/mnist   # the full 60,000 / 10,000 IDX files

The data is the 5,000-digit MNIST subset that installs with minigan (4,500 train / 500 test,
stratified, fixed) unless --data-dir or $MINIGAN_DATA points at the IDX files.
"""
import argparse
import time

import numpy as np
from tqdm import tqdm

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan.data import DataLoader, load_mnist

parser = argparse.ArgumentParser()
parser.add_argument("--small", action="store_true", help="a few steps on a few images (no accuracy claim)")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--data-dir", help="folder with the MNIST IDX files (default: $MINIGAN_DATA, else embedded)")
parser.add_argument("--device", default=None, help="cpu or cuda (default: $MINIGAN_DEVICE, else cpu)")
parser.add_argument("--save", help="write the trained weights here (.npz)")
args = parser.parse_args()

mg.manual_seed(args.seed)
train_images, train_labels = load_mnist("train", args.data_dir)
test_images, test_labels = load_mnist("test", args.data_dir)
if args.small:
    train_images, train_labels = train_images[:256], train_labels[:256]
    args.epochs = 1
print(f"train {train_images.shape}, test {test_images.shape}, pixels in [{train_images.min()}, {train_images.max()}]")

# 28x28 -> conv 3x3 (32) -> pool -> 14x14 -> conv 3x3 (64) -> pool -> 7x7 -> linear 128 -> 10 logits
model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
if args.device:
    model.to(args.device)
optimizer = optim.Adam(model.parameters(), lr=args.lr)
loader = DataLoader((train_images, train_labels), args.batch_size, seed=args.seed, device=args.device)


def accuracy(images, labels, batch_size=500):
    """Fraction of `images` whose largest logit is the right digit (eval mode, no graph)."""
    model.eval()
    correct = 0
    with mg.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(mg.tensor(images[start:start + batch_size], device=args.device))
            correct += int((logits.numpy().argmax(axis=1) == labels[start:start + batch_size]).sum())
    model.train()
    return correct / len(images)


started = time.perf_counter()
for epoch in range(args.epochs):
    losses = []
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", leave=False)
    for x, y in bar:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    print(f"epoch {epoch + 1}: train loss {np.mean(losses):.4f}, test accuracy "
          f"{accuracy(test_images, test_labels):.2%} ({time.perf_counter() - started:.0f} s)")

print(f"test accuracy {accuracy(test_images, test_labels):.2%} on {len(test_images)} held-out digits, "
      f"after {args.epochs} epoch(s) of {len(loader)} steps in {time.perf_counter() - started:.0f} s")
if args.save:
    mg.save(model.state_dict(), args.save)
    print(f"weights written to {args.save}")
