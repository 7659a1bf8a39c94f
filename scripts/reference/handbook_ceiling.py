"""The Card Precision@100 an oracle reaches on the handbook's prequential test folds when it
knows every fraud that the data could reveal under the 7-day label delay: the frauds of
scenarios 1 and 3, and those of scenario 2 (a compromised terminal) once a scenario-2 fraud at
the same terminal has been known for up to 28 days. Scenario-2 frauds before the terminal's first
label arrives look exactly like genuine transactions.

    python scripts/reference/handbook_ceiling.py [transactions.csv.gz]   (needs pandas, numpy)
"""
import sys

import numpy as np
import pandas as pd

DAY = 86400
path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/handbook/transactions.csv.gz"
tx = pd.read_csv(path)
tx["day"] = tx.tx_time_seconds // DAY

# The newest scenario-2 fraud at the same terminal that is known (7 days old) at each transaction.
s2 = tx[tx.tx_fraud_scenario == 2][["terminal_id", "tx_time_seconds"]].rename(columns={"tx_time_seconds": "known"})
q = tx[["transaction_id", "terminal_id", "tx_time_seconds"]].assign(cut=tx.tx_time_seconds - 7 * DAY)
m = pd.merge_asof(q.sort_values("cut"), s2.sort_values("known"), left_on="cut", right_on="known",
                  by="terminal_id", direction="backward")
visible = m.set_index("transaction_id").eval("tx_time_seconds - known < 28 * @DAY")
tx["oracle"] = ((tx.tx_fraud == 1) & ((tx.tx_fraud_scenario != 2) | visible.reindex(tx.transaction_id).values)).astype(float)


def card_precision(test, k=100):
    detected, daily = set(), []
    for _, g in test.groupby("day"):
        g = g[~g.customer_id.isin(detected)]
        cards = g.groupby("customer_id").agg(s=("oracle", "max"), f=("tx_fraud", "max"))
        top = cards.sort_values("s", ascending=False, kind="stable").head(k)
        daily.append(top.f.sum() / k)
        detected |= set(top.index[top.f == 1])
    return np.mean(daily)


start = (pd.Timestamp("2018-08-15") - pd.Timestamp("2018-04-01")).days
folds = []
for i in range(4):
    s = start - 7 * i
    known = tx[(tx.day >= s) & (tx.tx_fraud == 1)].groupby("customer_id").day.min()
    test = tx[(tx.day >= s + 14) & (tx.day < s + 21)]
    first = known.reindex(test.customer_id).values
    test = test[~(first < test.day.values - 7)]
    folds.append(card_precision(test))
    print(f"fold {i}: oracle CP@100 {folds[-1]:.4f}")
print(f"mean {np.mean(folds):.4f}")
