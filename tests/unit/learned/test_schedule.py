"""The learned coders' schedule: a step count or the time budget ends a run; without steps the probe plans them."""

from semtalk.learned.schedule import StepBudget, warmup_cosine


def test_steps_end_a_run_and_the_budget_ends_one_without_steps():
    budget = StepBudget(minutes=10.0, steps=3, probe=(0, 2), log=lambda _: None)
    assert [budget.go(s) for s in range(5)] == [True, True, True, False, False]
    lines: list[str] = []
    assert not StepBudget(minutes=-1.0, steps=None, probe=(0, 2), log=lines.append).go(0)
    assert lines and "time budget" in lines[0]


def test_the_probe_plans_the_steps_that_fit():
    lines: list[str] = []
    budget = StepBudget(minutes=10.0, steps=None, probe=(1, 3), log=lines.append)
    assert all(budget.go(s) for s in range(3)) and budget.total is None
    assert budget.go(3) and budget.total is not None and budget.total > 3 and "planning" in lines[-1]


def test_warmup_then_cosine_to_five_percent():
    assert warmup_cosine(1.0, 10, 0, 100) == 0.1
    assert abs(warmup_cosine(1.0, 10, 100, 100) - 0.05) < 1e-12
    assert warmup_cosine(1.0, 1, 50, 100) < warmup_cosine(1.0, 1, 20, 100)
