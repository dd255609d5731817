-- whago-jobs schema, version 3: the plan's cap on warm-up messages one chip sends a day (NULL:
-- unlimited; 0: no maturation). Our defaults: business 100, enterprise 200 (WHAGO's production
-- ramp tops out at 200 a day), free 0 (its plan has no maturation).
ALTER TABLE plans ADD COLUMN maturation_per_chip_day int CHECK (maturation_per_chip_day >= 0);
UPDATE plans SET maturation_per_chip_day = CASE name WHEN 'free' THEN 0 WHEN 'business' THEN 100 WHEN 'enterprise' THEN 200 END
WHERE name IN ('free', 'business', 'enterprise');
