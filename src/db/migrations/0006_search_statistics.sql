-- Token searches filter on (param, code, system) together. Per-column statistics multiply the
-- three selectivities as if they were independent, and underestimate a common code of one
-- parameter by 10x or more; the planner then fetches every matching resource row and sorts,
-- where a scan in row order that stops after one page would do. Multi-column statistics (most
-- common value combinations) fix the estimates; measured on 100,000 resources:
-- Patient?gender=female&_count=50 46 -> 1.3 ms, Observation?code=…&value-quantity=gt100
-- 55 -> 7 ms, Observation?code=…&date=ge…&_include=Observation:subject 119 -> 50 ms.
CREATE STATISTICS idx_token_param_code_system (ndistinct, dependencies, mcv) ON param, code, system FROM idx_token;
