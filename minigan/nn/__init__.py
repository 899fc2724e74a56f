"""Neural-network building blocks, with PyTorch's names, defaults and weight layouts.

    from minigan import nn
    model = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
"""
from minigan.nn import init
from minigan.nn.parameter import Parameter
from minigan.nn.module import Module
from minigan.nn.containers import Sequential, ModuleList, ModuleDict
from minigan.nn.functional_call import functional_call
from minigan.nn.linear import Linear, Identity
from minigan.nn.conv import Conv2d, ConvTranspose2d
from minigan.nn.norm import BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm, GroupNorm
from minigan.nn.activation import ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus, Softmax, LogSoftmax
from minigan.nn.dropout import Dropout
from minigan.nn.embedding import Embedding
from minigan.nn.flatten import Flatten, Unflatten
from minigan.nn.pooling import AvgPool2d, MaxPool2d
from minigan.nn.padding import ReflectionPad2d, ZeroPad2d, ConstantPad2d
from minigan.nn.upsampling import Upsample
from minigan.nn.spectral_norm import spectral_norm, remove_spectral_norm
from minigan.nn.equalized import EqualizedLinear, EqualizedConv2d
from minigan.nn.gan_blocks import PixelNorm, MinibatchStdDev, NoiseInjection, AdaIN, PReLU
from minigan.nn.modulated import ModulatedConv2d
from minigan.nn.attention import SelfAttention2d
from minigan.nn.conditional_norm import ConditionalBatchNorm2d
from minigan.nn.residual import ResidualBlock, ResBlockUp, ResBlockDown
from minigan.nn.upsample_blocks import SubPixelUpsample
from minigan.nn.unet import UNet, UNetBlock
