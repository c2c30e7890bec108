"""A local demo university website with known ground truth, for crawler tests.

``build_site`` writes a static multi-department site (TYPO3/WordPress-style pages,
decoys, bad inputs, a robots-disallowed area, a JavaScript-rendered department) from
the shared LFW and non-face images; ``DemoServer`` serves it on 127.0.0.1 with ETags
and counters; ``GroundTruth`` says what a correct crawl stores.
"""

from .generator import build_site, load_faces
from .server import DemoServer
from .truth import DeptTruth, GroundTruth, TruthPerson

__all__ = ["build_site", "load_faces", "DemoServer", "GroundTruth", "DeptTruth", "TruthPerson"]
