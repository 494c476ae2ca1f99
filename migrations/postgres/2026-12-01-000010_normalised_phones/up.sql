-- Phone numbers are kept in one form, +84 and 9 digits, so that the same number typed as
-- 0912 345 678 or +84912345678 is stored, shown and compared alike.
UPDATE questions SET asker_phone = replace(replace(asker_phone, ' ', ''), '.', '')
WHERE asker_phone IS NOT NULL;
UPDATE questions SET asker_phone = '+84' || substr(asker_phone, 2)
WHERE asker_phone LIKE '0%' AND length(asker_phone) = 10;
