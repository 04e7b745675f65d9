# The book's own bet id (Betfair's betId, Pinnacle's betId) on a bet: unique per bankroll and book
# when given; the natural key of an import then applies only to the bets without one.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bets', '0004_bankroll_owners_members_limits_import'),
    ]

    operations = [
        migrations.AddField(
            model_name='bet',
            name='external_id',
            field=models.CharField(blank=True, default='', help_text="The book's own id of the bet (Betfair's or Pinnacle's betId); blank for paper bets.", max_length=64),
        ),
        migrations.RemoveConstraint(
            model_name='bet',
            name='bet_import_natural_key',
        ),
        migrations.AddConstraint(
            model_name='bet',
            constraint=models.UniqueConstraint(condition=models.Q(('external_id', ''), ('source', 'import')), fields=('bankroll', 'game', 'market', 'outcome', 'bookmaker', 'placed_at', 'price', 'stake'), name='bet_import_natural_key'),
        ),
        migrations.AddConstraint(
            model_name='bet',
            constraint=models.UniqueConstraint(condition=models.Q(('external_id', ''), _negated=True), fields=('external_id', 'bookmaker', 'bankroll'), name='bet_external_id_per_book'),
        ),
    ]
