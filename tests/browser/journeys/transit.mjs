// Open a Beijing metro card on the phone (fees paid with a bank card's token), top it up, ride in
// at Pingguoyuan and out at Guomao, and see the fare and the trip.
import { demoCard } from '../lib/demo_cards.mjs';
import { signUp, addCard } from '../lib/wallet.mjs';

const kCity = '1000';          // Beijing (seed/transit_cities.json)
const kLine = '1';
const kEntryStation = '101';   // Pingguoyuan, position 0 m
const kExitStation = '106';    // Guomao, 24,300 m: the 22-32 km band, 6 CNY

export default async function journey({ page, baseUrl, shot, expect }) {
  await signUp(page, baseUrl);
  await addCard(page, demoCard({ kind: 'debit', index: 31 }));

  await page.goto(`${baseUrl}/app/#/transit`);
  const open = page.locator('#transit-open-form');
  await open.waitFor();
  await open.locator('select[name=city]').selectOption(kCity);
  await shot('transit-01-open-form');
  await open.locator('button[type=submit]').click();
  const card = page.locator(`.transit-card[data-city="${kCity}"]`);
  await card.waitFor();
  expect((await card.locator('.transit-balance').innerText()).includes('0.00 CNY'), 'a new card holds 0.00 CNY');
  await shot('transit-02-card-opened');

  const topUp = card.locator('.top-up-form');
  await topUp.locator('input[name=amount_fen]').fill('50');
  await topUp.locator('button[type=submit]').click();
  await page.locator('#transit-status', { hasText: 'balance 50.00 CNY' }).waitFor();
  await page.locator(`.transit-card[data-city="${kCity}"] .transit-balance`, { hasText: '50.00 CNY' }).waitFor();
  await shot('transit-03-topped-up');

  const ride = page.locator(`.transit-card[data-city="${kCity}"] .ride-form`);
  await ride.locator('select[name=gate]').selectOption('metro_entry');
  await ride.locator('select[name=line]').selectOption(kLine);
  await ride.locator('select[name=station]').selectOption(kEntryStation);
  await ride.locator('button[type=submit]').click();
  let gate = ride.locator('.gate');
  await gate.waitFor();
  expect((await gate.getAttribute('data-open')) === 'true', `the entry gate opens: ${await gate.innerText()}`);
  expect((await gate.innerText()).includes('Pingguoyuan'), 'the entry gate is at Pingguoyuan');
  await shot('transit-04-entered');

  await ride.locator('select[name=gate]').selectOption('metro_exit');
  await ride.locator('select[name=line]').selectOption(kLine);
  await ride.locator('select[name=station]').selectOption(kExitStation);
  await ride.locator('button[type=submit]').click();
  gate = ride.locator('.gate', { hasText: 'Guomao' });
  await gate.waitFor();
  expect((await gate.getAttribute('data-open')) === 'true', `the exit gate opens: ${await gate.innerText()}`);
  const fare = Number(await gate.getAttribute('data-fare-fen'));
  const balance = Number(await gate.getAttribute('data-balance-fen'));
  expect(fare === 600, `Pingguoyuan → Guomao (24.3 km) costs 6.00 CNY (got ${fare} fen)`);
  expect(balance === 5000 - fare, `the balance is 50.00 less the fare (got ${balance} fen)`);
  await page.locator(`.transit-card[data-city="${kCity}"] .trip`, { hasText: 'Guomao' }).first().waitFor();
  const trips = await page.locator(`.transit-card[data-city="${kCity}"] .trips`).innerText();
  expect(trips.includes('6.00 CNY'), `the trip list shows the 6.00 CNY fare: ${trips}`);
  expect(trips.includes('50.00 CNY'), `the trip list shows the top-up: ${trips}`);
  await shot('transit-05-exited-trips');

  // Delete: two taps, then the card is gone and its balance is refunded to the bank card.
  const remove = page.locator(`.transit-card[data-city="${kCity}"] .delete-transit-card`);
  await remove.click();
  await remove.click();
  const notice = page.locator('#transit-status .ok-text', { hasText: 'refunded' });
  await notice.waitFor();
  const text = await notice.innerText();
  expect(text.includes(`${((5000 - fare) / 100).toFixed(2)} CNY refunded`), `the refund is the balance: ${text}`);
  expect(await page.locator(`.transit-card[data-city="${kCity}"]`).count() === 0, 'the card left the phone');
}
