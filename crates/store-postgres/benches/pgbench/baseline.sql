INSERT INTO bench_baseline (id, payload) VALUES (nextval('b'), '{"uid":"x"}');
