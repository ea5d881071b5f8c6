-- Schema version 4: prices fetched from the AWS Price List Query API by `costcutter prices
-- update`, which estimates prefer to the table shipped with CostCutter (costcutter/prices.json).
-- A fetch replaces the row of its key and region; the shipped table is never changed.

CREATE TABLE prices (
    key        TEXT NOT NULL,     -- the shipped table's key, e.g. ec2.instance:t3.micro:linux
    region     TEXT NOT NULL,     -- the region the figure is for, e.g. us-east-1
    usd        REAL NOT NULL,     -- USD per unit
    unit       TEXT NOT NULL,     -- the shipped table's unit: hour, GB-month, ...
    sku        TEXT,              -- the Price List product it came from
    fetched_at TEXT NOT NULL,     -- ISO 8601, UTC
    PRIMARY KEY (key, region)
);
