"""A synthetic company with known ground truth, for `tandem demo`, tests and benchmarks."""

from tandem.demo.company import DemoCompany, build_demo, demo_ownership

__all__ = ["DemoCompany", "build_demo", "demo_ownership"]
