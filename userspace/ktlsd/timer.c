// SPDX-License-Identifier: GPL-2.0-only
/*
 * Deadlines of every request in flight, in one binary min-heap: the loop
 * sleeps until the earliest, and adding or removing one is O(log n), so
 * ten thousand parked handshakes cost nothing while they wait.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon.h"

static void heap_set(struct ktlsd_heap *h, size_t i, struct ktlsd_timer *t)
{
	h->h_items[i] = t;
	t->t_index = i;
}

static void heap_up(struct ktlsd_heap *h, size_t i)
{
	struct ktlsd_timer *t = h->h_items[i];

	while (i > 1 && h->h_items[i / 2]->t_deadline > t->t_deadline) {
		heap_set(h, i, h->h_items[i / 2]);
		i /= 2;
	}
	heap_set(h, i, t);
}

static void heap_down(struct ktlsd_heap *h, size_t i)
{
	struct ktlsd_timer *t = h->h_items[i];
	size_t child;

	for (;;) {
		child = 2 * i;
		if (child > h->h_count)
			break;
		if (child < h->h_count &&
		    h->h_items[child + 1]->t_deadline < h->h_items[child]->t_deadline)
			child++;
		if (h->h_items[child]->t_deadline >= t->t_deadline)
			break;
		heap_set(h, i, h->h_items[child]);
		i = child;
	}
	heap_set(h, i, t);
}

int ktlsd_timer_add(struct ktlsd_heap *h, struct ktlsd_timer *t)
{
	struct ktlsd_timer **items;
	size_t capacity;

	if (h->h_count + 1 >= h->h_capacity) {
		capacity = h->h_capacity ? 2 * h->h_capacity : 64;
		items = realloc(h->h_items, capacity * sizeof(*items));
		if (!items)
			return -ENOMEM;
		h->h_items = items;
		h->h_capacity = capacity;
	}
	h->h_count++;
	heap_set(h, h->h_count, t);
	heap_up(h, h->h_count);
	return 0;
}

void ktlsd_timer_del(struct ktlsd_heap *h, struct ktlsd_timer *t)
{
	size_t i = t->t_index;
	struct ktlsd_timer *last;

	if (!i)
		return;
	t->t_index = 0;
	last = h->h_items[h->h_count--];
	if (last == t)
		return;
	heap_set(h, i, last);
	heap_up(h, i);
	heap_down(h, last->t_index);
}

int ktlsd_timer_next(const struct ktlsd_heap *h, int64_t now)
{
	int64_t left;

	if (!h->h_count)
		return -1;
	left = h->h_items[1]->t_deadline - now;
	return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

void ktlsd_timer_run(struct ktlsd_daemon *d, int64_t now)
{
	struct ktlsd_heap *h = &d->d_timers;
	struct ktlsd_timer *t;

	while (h->h_count && h->h_items[1]->t_deadline <= now) {
		t = h->h_items[1];
		ktlsd_timer_del(h, t);
		t->t_expire(d, t);
	}
}

void ktlsd_heap_free(struct ktlsd_heap *h)
{
	free(h->h_items);
	h->h_items = NULL;
	h->h_count = h->h_capacity = 0;
}
