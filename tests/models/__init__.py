"""Reference definitions of modern CNNs and ViT, written from the papers as test fixtures (issue 12).

torchvision does not install here, so these modules define the networks the importer must read the way
torchvision writes them: the same class and factory names and arguments, the same module hierarchy (so
``state_dict()`` keys are torchvision's), the same forward idioms and the same parameter counts. Each module
cites its paper and names the torchvision configuration it matches; ``ops`` holds the ``torchvision.ops``
look-alikes they share. Pure torch: nothing here imports torchvision or timm.
"""
