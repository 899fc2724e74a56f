"""Metrics of generated samples: mode coverage on 2-D toys, and classifier-based image metrics.

    from minigan import metrics
    metrics.toy_mode_metrics(points, toy.centers, toy.std)     # modes covered, % high quality (VEEGAN/PacGAN)
    model = metrics.classifier("mnist")                         # small CNN trained with minigan, cached
    metrics.image_metrics(fake, "mnist")                        # classifier FID (+ real floor), coverage, KL
    metrics.stacked_mnist_modes(fake_rgb, model)                # modes out of 1,000, KL to uniform
    metrics.psnr(a, b, data_range=2.0)
"""
from minigan.metrics.histogram import kl_to_uniform
from minigan.metrics.toys import toy_mode_metrics
from minigan.metrics.digit_classifier import (DigitClassifier, classifier, train_classifier, cache_dir, embed,
                                        predict_classes)
from minigan.metrics.images import (gaussian_fit, frechet_distance, classifier_fid, class_coverage,
                                    label_accuracy, stacked_mnist_modes, image_metrics, psnr)
