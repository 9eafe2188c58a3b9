import threading
import unittest

from evq_signing import DedupCache


class DedupCacheTest(unittest.TestCase):
    def test_first_sighting_is_new(self):
        cache = DedupCache(3)
        self.assertFalse(cache.seen("a"))
        self.assertTrue(cache.seen("a"))
        self.assertEqual(len(cache), 1)

    def test_least_recently_seen_evicted(self):
        cache = DedupCache(2)
        cache.seen("a")
        cache.seen("b")
        cache.seen("c")
        self.assertEqual(len(cache), 2)
        self.assertTrue(cache.seen("c"))
        self.assertTrue(cache.seen("b"))
        self.assertFalse(cache.seen("a"))

    def test_repeat_refreshes_recency(self):
        cache = DedupCache(2)
        cache.seen("a")
        cache.seen("b")
        self.assertTrue(cache.seen("a"))
        cache.seen("c")
        self.assertTrue(cache.seen("a"))
        self.assertFalse(cache.seen("b"))

    def test_size_one(self):
        cache = DedupCache(1)
        self.assertFalse(cache.seen("a"))
        self.assertFalse(cache.seen("b"))
        self.assertFalse(cache.seen("a"))
        self.assertTrue(cache.seen("a"))

    def test_invalid_max_size_rejected(self):
        for max_size in (0, -1, 1.5, True, None):
            with self.subTest(max_size=max_size):
                with self.assertRaisesRegex(ValueError, "max_size"):
                    DedupCache(max_size)

    def test_max_size_property(self):
        self.assertEqual(DedupCache(5).max_size, 5)

    def test_concurrent_sightings_counted_once(self):
        cache = DedupCache(10_000)
        new_counts = []
        lock = threading.Lock()

        def record_all():
            new = sum(not cache.seen(f"id-{index}") for index in range(2_000))
            with lock:
                new_counts.append(new)

        threads = [threading.Thread(target=record_all) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sum(new_counts), 2_000)
        self.assertEqual(len(cache), 2_000)


if __name__ == "__main__":
    unittest.main()
